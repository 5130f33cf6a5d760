package todo

import _ "embed"

// OpenAPI is the plugin's OpenAPI 3 document (openapi.yaml): every route,
// its parameters, bodies and responses, errors included. Tests check the
// plugin against it with openapitest.WithOpenAPI(todo.PluginID,
// todo.OpenAPI).
//
//go:embed openapi.yaml
var OpenAPI []byte
