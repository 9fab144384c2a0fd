"""Request and answer examples of the /api routes, one module per API module (web/api/<name>.py): the
routes pass them to api_route(examples=…), so the OpenAPI document shows them next to the schemas."""
