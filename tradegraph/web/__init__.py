"""Non-GraphQL HTTP (webhooks, health, metrics) and the GraphQL view that serves /graphql."""
