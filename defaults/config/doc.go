// Package config is the production implementation of the core.rootConfig
// service: configuration read from YAML files and the environment.
//
// # Sources and precedence
//
// [Load] reads YAML files in order. A later file overrides an earlier one:
// objects are merged key by key, at every depth; lists and scalars are
// replaced whole; a null value masks (unsets) what earlier files said.
// Environment overrides are applied last (see below).
//
// # Substitution
//
// In the string values of files, ${NAME} is replaced with the value of the
// environment variable NAME (NAME is a letter or underscore followed by
// letters, digits and underscores). A variable that is not set is an error
// naming the key and the variable. $${NAME} is an escape for the literal
// text ${NAME}. A lone $ is kept as is. Substitution happens in each file
// before files are merged, so a variable used in any file must be set.
// Substituted values stay strings: the number and boolean getters accept
// strings such as "8080" and "true" for that reason (see below).
//
// # Environment overrides
//
// A variable GREENROOM_CONFIG_<path> sets the key whose dot-separated path is
// <path> with each "." written as "_":
//
//	GREENROOM_CONFIG_backend_listen_port=8080
//	GREENROOM_CONFIG_backend_baseUrl=https://greenroom.example.com
//	GREENROOM_CONFIG_backend_auth_dangerouslyDisableDefaultAuthPolicy=true
//
// Keys are case-sensitive, so a camelCase key keeps its case in the variable
// name (backend_baseUrl, not BACKEND_BASEURL). Keys that contain "_" cannot
// be addressed this way; set them in a file. Values are parsed as YAML
// scalars, so 8080 is a number, true a boolean and null unsets the key; a
// value that starts with "{" or "[" is parsed as JSON (or YAML flow) and
// merged like a file; anything else that is not a single scalar, and the
// empty value, is kept as a string. Overrides are applied in the order of
// their variable names, so GREENROOM_CONFIG_backend_listen_port wins over a
// port given in GREENROOM_CONFIG_backend_listen={"port":1}.
//
// # Keys and values
//
// Keys are dot-separated paths ("backend.listen.port"). A key in a file or
// an override may not be empty, contain "." or a control character (such
// as a line break), and must be UTF-8; so must the values of overrides and
// of substituted variables. Alias expansion in YAML is bounded (by
// gopkg.in/yaml.v3): a "billion laughs" document fails with "excessive
// aliasing". Values are strings, numbers, booleans, null,
// lists and objects. Errors name the full key (for a sub config, including
// the prefix it was taken at; for list elements, the index, as in
// "discovery.endpoints[1].target") and what was expected:
//
//	config key "backend.listen.port": expected a number, got string "abc"
//	config key "backend.baseUrl" is missing
//
// Missing-key errors wrap [core.ErrConfigKeyMissing]. A key set to null is
// reported by Has but is missing for every getter.
//
// The getters convert as little as possible:
//   - String and Strings want strings; numbers and booleans are not
//     converted.
//   - Int accepts whole numbers and strings of base-10 integers ("8080").
//   - Bool accepts booleans and the strings "true" and "false".
//   - Duration accepts Go duration strings ("1h30m", "250ms"), whole numbers
//     of seconds, and strings of whole numbers of seconds.
//   - Decode decodes into a struct, map or slice with
//     github.com/go-viper/mapstructure/v2, rejecting keys the struct does not
//     have. Struct fields are matched by their yaml tag, else by their
//     lower-cased name, exactly, so give camelCase keys a tag:
//     `yaml:"baseUrl"`. Strings of numbers or booleans decode into number and
//     boolean fields, as with Int and Bool; numbers must fit their field
//     exactly; time.Duration fields take Go duration strings; fields of a
//     type implementing encoding.TextUnmarshaler (time.Time, netip.Addr)
//     take the text they unmarshal.
//
// Decode reports every error, each naming its full key:
//
//	config key "discovery.endpoints[1].port": unknown key; main.endpoint has no field for "port"
//	config key "discovery.timeout": expected time.Duration, got number 90
//
// Package configtest holds the conformance suite that this implementation and
// every fake of core.Config pass.
package config
