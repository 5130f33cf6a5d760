package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/defaults/auth"
)

var keygenCommand = command{
	name:  "keygen",
	short: "create a private key for signing development user tokens",
	usage: "-out <file> [-format jwk|pem] [-force]",
	summary: "Keygen writes a new ES256 private key for signing user tokens and prints its public key set. " +
		"Configure the public key set as backend.auth.userTokens.jwks, or save it to a file listed under backend.auth.userTokens.publicKeys. " +
		"Keep the private key out of version control.",
	flags: func(fs *flag.FlagSet) func(stdout, stderr io.Writer) error {
		out := fs.String("out", "", "`file` to write the private key to (required)")
		format := fs.String("format", "jwk", "format of the private key file: jwk or pem")
		force := fs.Bool("force", false, "overwrite the file if it exists")
		return func(stdout, stderr io.Writer) error {
			if *out == "" {
				return usagef("-out is required: name the file to write the private key to, such as -out dev-user-key.json")
			}
			iss, err := auth.NewUserTokenIssuer()
			if err != nil {
				return err
			}
			var data []byte
			switch *format {
			case "jwk":
				data, err = iss.MarshalJWK()
			case "pem":
				data, err = iss.MarshalPEM()
			default:
				return usagef("-format %q is not supported, use jwk or pem", *format)
			}
			if err != nil {
				return err
			}
			if err := writeSecret(*out, data, *force); err != nil {
				return err
			}
			if err := printJWKS(stdout, iss); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "Wrote the private key to %s (keep it secret).\n"+
				"The public key set above verifies its tokens: set it as backend.auth.userTokens.jwks,\n"+
				"or save it to a file and list it under backend.auth.userTokens.publicKeys.\n", *out)
			return nil
		}
	},
}

var tokenCommand = command{
	name:  "token",
	short: "print a user token signed with a keygen key",
	usage: "-key <file> -sub <user entity ref> [-ent <refs>] [-ttl 1h] [-iss <issuer>]",
	summary: "Token prints a user token signed with a key written by 'greenroom keygen'. " +
		"Send it as 'Authorization: Bearer <token>' to a backend whose backend.auth.userTokens trusts the key.",
	flags: func(fs *flag.FlagSet) func(stdout, stderr io.Writer) error {
		key := fs.String("key", "", "private key `file` written by 'greenroom keygen' (required)")
		sub := fs.String("sub", "", "user entity `ref` of the user, such as user:default/alice (required)")
		ent := fs.String("ent", "", "comma-separated ownership entity `refs`, such as user:default/alice,group:default/team-a (default: the user)")
		ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
		issuer := fs.String("iss", "", "`issuer` claim, to match backend.auth.userTokens.issuer")
		return func(stdout, stderr io.Writer) error {
			if *key == "" {
				return usagef("-key is required: name the private key file written by 'greenroom keygen'")
			}
			if *sub == "" {
				return usagef("-sub is required: name the user, such as -sub user:default/alice")
			}
			if *ttl <= 0 {
				return usagef("-ttl must be positive, got %s", *ttl)
			}
			iss, err := loadIssuer(*key)
			if err != nil {
				return err
			}
			if *issuer != "" {
				iss = iss.WithIssuer(*issuer)
			}
			var refs []string
			for r := range strings.SplitSeq(*ent, ",") {
				if r = strings.TrimSpace(r); r != "" {
					refs = append(refs, r)
				}
			}
			tok, err := iss.Issue(*sub, refs, *ttl)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, tok)
			return err
		}
	},
}

var jwksCommand = command{
	name:    "jwks",
	short:   "print the public key set of a keygen key",
	usage:   "-key <file>",
	summary: "Jwks prints the public key set of a private key written by 'greenroom keygen', for backend.auth.userTokens.",
	flags: func(fs *flag.FlagSet) func(stdout, stderr io.Writer) error {
		key := fs.String("key", "", "private key `file` written by 'greenroom keygen' (required)")
		return func(stdout, stderr io.Writer) error {
			if *key == "" {
				return usagef("-key is required: name the private key file written by 'greenroom keygen'")
			}
			iss, err := loadIssuer(*key)
			if err != nil {
				return err
			}
			return printJWKS(stdout, iss)
		}
	},
}

func loadIssuer(path string) (*auth.UserTokenIssuer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w", err)
	}
	iss, err := auth.ParseUserTokenIssuer(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return iss, nil
}

func printJWKS(w io.Writer, iss *auth.UserTokenIssuer) error {
	b, err := json.MarshalIndent(iss.JWKS(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the public key set: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeSecret writes data to a new file readable only by its owner. It
// does not replace an existing file unless force is set.
func writeSecret(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; use -force to overwrite it", path)
	}
	if err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	if force {
		// An existing file keeps its mode; a private key must not be
		// readable by others.
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("writing the private key: %w", err)
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing the private key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	return nil
}
