"""GraphQL types, inputs, enums and scalars, one module per domain; the typed context, the
permissions and the error codes. The root types and the schema are assembled in tradegraph/api."""
