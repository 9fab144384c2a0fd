"""Examples of the /api routes in web/api/openapi.py (request body and answers by status), shown in the
OpenAPI document and Swagger UI; names follow the operationIds."""

GET_OPEN_API_DOCUMENT = {"200": {"openapi": "3.0.3", "info": {"title": "存客宝 API", "version": "1.0.0"}, "paths": {}}}
