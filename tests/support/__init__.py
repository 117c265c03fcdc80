"""Helpers for the tests, not tests: clients, servers started for real, fakes of outside
services speaking their wire format, and reference implementations to compare against."""
