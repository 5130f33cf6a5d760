// Command greenroom is the command-line tool of Greenroom. It mints the
// user tokens of development setups and tests:
//
//	greenroom keygen -out dev-user-key.json
//
// writes a new ES256 private key (keep it out of version control) and
// prints the public key set to configure as backend.auth.userTokens.jwks
// (or to save to a file listed under backend.auth.userTokens.publicKeys);
//
//	greenroom token -key dev-user-key.json -sub user:default/alice [-ent group:default/team-a] [-ttl 1h] [-iss <issuer>]
//
// prints a user token the backend accepts, to send as
// "Authorization: Bearer <token>"; and
//
//	greenroom jwks -key dev-user-key.json
//
// prints the public key set of a key again. Run "greenroom help <command>"
// for the flags of a command.
package main
