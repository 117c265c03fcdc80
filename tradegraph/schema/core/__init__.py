"""GraphQL machinery shared by every domain: request context, permissions, errors, scalars,
pagination, the cost limits and the document cache. Domain types live one level up."""
