"""User-activity events: validation, ingestion, queries, summaries, webhooks. No GraphQL or HTTP."""
