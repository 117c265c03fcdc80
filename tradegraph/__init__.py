"""tradegraph: a GraphQL API server for trading dashboards."""
