// Command greenroom is the command-line tool of Greenroom backends:
//
//	greenroom keygen --out dev-user-key.json
//	greenroom jwks --key dev-user-key.json
//	greenroom token --config app-config.yaml --user user:default/alice [--ent group:default/team-a] [--ttl 1h]
//	greenroom token --config app-config.yaml --service ci-bot
//	greenroom new plugin --id demo [--dir plugins/demo]
//	greenroom new module --plugin demo --id audit
//	greenroom cover --min 80 [--package-min 60] [--html cover.html] [--config .greenroom-cover.yaml] cover.out
//	greenroom completion bash|zsh|fish|powershell
//
// keygen writes an ES256 private key for development user tokens and prints
// its public key set for backend.auth.userTokens.jwks. token prints a user
// token signed with --key or the key named by greenroom.token.devSigningKey
// of the config, checked against the backend.auth settings of the same
// config files the backend reads, or the static token of
// backend.auth.externalAccess for a service subject. new creates plugin and
// module packages. cover prints a per-package coverage table of a profile
// and fails when the total or a package is below its threshold: the CI
// coverage gate. Run "greenroom help <command>" for the flags of a command;
// docs/cli.md documents them all.
package main
