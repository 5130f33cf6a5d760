package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/auth"
	"github.com/greenroom-dev/greenroom/defaults/config"
)

// devSigningKeyConfig is the config key naming the private key file that
// "greenroom token --user" signs with when --key is not given. The backend
// does not read it; a relative path is relative to the config file that
// sets it.
const devSigningKeyConfig = "greenroom.token.devSigningKey"

func newTokenCommand() *cobra.Command {
	var (
		o       tokenOptions
		subject string
	)
	cmd := &cobra.Command{
		Use:   "token (--user <ref> | --service <subject>) [--config <file>]... [flags]",
		Short: "Print a user or service token that a backend accepts",
		Long: "Token prints a token to send as 'Authorization: Bearer <token>'.\n\n" +
			"With --user it signs a user token with a private key written by 'greenroom keygen': the file\n" +
			"named by --key, or else by the config key " + devSigningKeyConfig + " (relative to the\n" +
			"config file that sets it). With --config, read the way the backend reads it (files in order,\n" +
			"then GREENROOM_CONFIG_* variables), the token is checked against the config's\n" +
			"backend.auth settings before it is printed: a key that is not among backend.auth.userTokens'\n" +
			"public keys, a lifetime above backend.auth.maxTokenLifetime or a wrong issuer fail the command.\n" +
			"The issuer defaults to backend.auth.userTokens.issuer.\n\n" +
			"With --service it prints the static token that backend.auth.externalAccess configures for the\n" +
			"subject (the only external access type Greenroom supports).",
		Example: "  greenroom token --config app-config.yaml --user user:default/alice --ent group:default/team-a\n" +
			"  greenroom token --key dev-user-key.json --user user:default/alice --ttl 10m\n" +
			"  greenroom token --config app-config.yaml --service ci-bot",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if subject != "" && o.user == "" {
				o.user = subject
			}
			o.env = os.Environ()
			tok, err := o.mint(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), tok)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.user, "user", "", "user entity `ref` of the user, such as user:default/alice")
	f.StringVar(&subject, "sub", "", "the same as --user")
	_ = f.MarkDeprecated("sub", "use --user")
	f.StringVar(&o.service, "service", "", "`subject` of a static token in backend.auth.externalAccess, such as ci-bot")
	f.StringSliceVar(&o.ent, "ent", nil, "ownership entity `refs`, comma-separated or repeated, such as group:default/team-a (default: the user)")
	f.DurationVar(&o.ttl, "ttl", time.Hour, "lifetime of a user token")
	f.StringVar(&o.issuer, "iss", "", "`issuer` claim of a user token (default: backend.auth.userTokens.issuer of the config)")
	f.StringVar(&o.key, "key", "", "private key `file` written by 'greenroom keygen' (default: "+devSigningKeyConfig+" of the config)")
	f.StringArrayVar(&o.configs, "config", nil, "YAML config `file` the backend reads, in the backend's order (repeatable)")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("key", "json", "pem")
	return cmd
}

// tokenOptions are the inputs of one token command.
type tokenOptions struct {
	user, service string
	ent           []string
	ttl           time.Duration
	issuer, key   string
	configs       []string
	env           []string
}

func (o tokenOptions) mint(ctx context.Context) (string, error) {
	switch {
	case o.user != "" && o.service != "":
		return "", usagef("--user and --service exclude each other: a token is either a user's or a service's")
	case o.user == "" && o.service == "":
		return "", usagef("name the principal: --user user:default/alice for a user token, or --service <subject> for a static token of backend.auth.externalAccess")
	}
	var cfg core.Config
	if len(o.configs) > 0 {
		c, err := config.Load(o.configs, o.env)
		if err != nil {
			return "", fmt.Errorf("reading the config %s: %w", strings.Join(o.configs, ", "), err)
		}
		cfg = c
	}
	if o.service != "" {
		return o.serviceToken(cfg)
	}
	return o.userToken(ctx, cfg)
}

// serviceToken returns the static token configured for o.service.
func (o tokenOptions) serviceToken(cfg core.Config) (string, error) {
	if cfg == nil {
		return "", usagef("--service reads backend.auth.externalAccess: give the backend's config with --config <file>")
	}
	const base = "backend.auth.externalAccess"
	if !cfg.Has(base) {
		return "", fmt.Errorf("the config (%s) has no %s: add a static token for %q there, such as\n"+
			"  %s:\n    - type: static\n      options: {token: <at least 8 characters>, subject: %s}", strings.Join(o.configs, ", "), base, o.service, base, o.service)
	}
	// The backend's own reading validates the section and reports a bad
	// entry by its key.
	if _, err := auth.NewKeyring(cfg); err != nil {
		return "", err
	}
	entries, err := cfg.SubList(base)
	if err != nil {
		return "", fmt.Errorf("invalid config %s: %w", base, err)
	}
	var subjects []string
	for _, e := range entries {
		subj, _, _ := e.OptionalString("options.subject")
		if subj == o.service {
			return e.String("options.token")
		}
		subjects = append(subjects, subj)
	}
	return "", fmt.Errorf("no static token for subject %q in %s of %s (configured subjects: %s); add one with options.subject: %s",
		o.service, base, strings.Join(o.configs, ", "), strings.Join(subjects, ", "), o.service)
}

// userToken signs a user token and, with a config, checks that the
// backend's auth settings accept it.
func (o tokenOptions) userToken(ctx context.Context, cfg core.Config) (string, error) {
	if o.ttl <= 0 {
		return "", usagef("--ttl must be positive, got %s", o.ttl)
	}
	keyFile := o.key
	if keyFile == "" {
		if cfg == nil {
			return "", usagef("--user needs the signing key: give --key <file> (written by 'greenroom keygen'), or --config <file> with %s set", devSigningKeyConfig)
		}
		var err error
		if keyFile, err = o.configuredKeyFile(cfg); err != nil {
			return "", err
		}
	}
	iss, err := loadIssuer(keyFile)
	if err != nil {
		return "", err
	}
	issuer := o.issuer
	if issuer == "" && cfg != nil {
		if issuer, _, err = cfg.OptionalString("backend.auth.userTokens.issuer"); err != nil {
			return "", fmt.Errorf("invalid config backend.auth.userTokens.issuer: %w", err)
		}
	}
	if issuer != "" {
		iss = iss.WithIssuer(issuer)
	}
	var ent []string
	for _, r := range o.ent {
		if r = strings.TrimSpace(r); r != "" {
			ent = append(ent, r)
		}
	}
	tok, err := iss.Issue(o.user, ent, o.ttl)
	if err != nil {
		return "", err
	}
	if cfg == nil {
		return tok, nil
	}
	k, err := auth.NewKeyring(cfg)
	if err != nil {
		return "", err
	}
	a, err := auth.NewAuth(k, "greenroom-cli", nil, nil)
	if err != nil {
		return "", err
	}
	if _, err := a.Authenticate(ctx, tok); err != nil {
		return "", fmt.Errorf("a backend with the config %s would refuse this token: %w\n"+
			"The token is signed with the key %s (key id %s). If the backend should trust it, add the public key\n"+
			"set that 'greenroom jwks --key %s' prints to backend.auth.userTokens.jwks, or save it to a file\n"+
			"listed under backend.auth.userTokens.publicKeys",
			strings.Join(o.configs, ", "), err, keyFile, iss.KeyID(), keyFile)
	}
	return tok, nil
}

// configuredKeyFile returns the file named by devSigningKeyConfig,
// relative to the config file that sets it (or to the working directory
// when a GREENROOM_CONFIG_* variable does).
func (o tokenOptions) configuredKeyFile(cfg core.Config) (string, error) {
	path, ok, err := cfg.OptionalString(devSigningKeyConfig)
	if err != nil {
		return "", fmt.Errorf("invalid config %s: %w; give the path of a private key file written by 'greenroom keygen'", devSigningKeyConfig, err)
	}
	if !ok || path == "" {
		return "", usagef("--user needs the signing key: give --key <file>, or set %s in %s to the private key file written by 'greenroom keygen'",
			devSigningKeyConfig, strings.Join(o.configs, ", "))
	}
	if filepath.IsAbs(path) {
		return path, nil
	}
	// The last file that sets the key to this value wins, as in the merge.
	for i := len(o.configs) - 1; i >= 0; i-- {
		c, err := config.Load(o.configs[i:i+1], o.env)
		if err != nil {
			return "", fmt.Errorf("reading the config %s: %w", o.configs[i], err)
		}
		if p, ok, _ := c.OptionalString(devSigningKeyConfig); ok && p == path {
			return filepath.Join(filepath.Dir(o.configs[i]), path), nil
		}
	}
	return path, nil
}
