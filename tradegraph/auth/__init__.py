"""Accounts, passwords and tokens. No GraphQL or HTTP here."""
