package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/greenroom-dev/greenroom/defaults/auth"
)

func newKeygenCommand() *cobra.Command {
	var (
		out, format string
		force       bool
	)
	cmd := &cobra.Command{
		Use:   "keygen --out <file> [--format jwk|pem] [--force]",
		Short: "Create a private key for signing development user tokens",
		Long: "Keygen writes a new ES256 private key for signing user tokens and prints its public key set.\n" +
			"Configure the public key set as backend.auth.userTokens.jwks, or save it to a file listed under\n" +
			"backend.auth.userTokens.publicKeys. Keep the private key out of version control.",
		Example: "  greenroom keygen --out dev-user-key.json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out is required: name the file to write the private key to, such as --out dev-user-key.json")
			}
			iss, err := auth.NewUserTokenIssuer()
			if err != nil {
				return err
			}
			var data []byte
			switch format {
			case "jwk":
				data, err = iss.MarshalJWK()
			case "pem":
				data, err = iss.MarshalPEM()
			default:
				return usagef("--format %q is not supported, use jwk or pem", format)
			}
			if err != nil {
				return err
			}
			if err := writeSecret(out, data, force); err != nil {
				return err
			}
			if err := printJWKS(cmd.OutOrStdout(), iss); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the private key to %s (keep it secret).\n"+
				"The public key set above verifies its tokens: set it as backend.auth.userTokens.jwks,\n"+
				"or save it to a file and list it under backend.auth.userTokens.publicKeys.\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "`file` to write the private key to (required)")
	f.StringVar(&format, "format", "jwk", "format of the private key file: jwk or pem")
	f.BoolVar(&force, "force", false, "overwrite the file if it exists")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"jwk", "pem"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newJWKSCommand() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:     "jwks --key <file>",
		Short:   "Print the public key set of a keygen key",
		Long:    "Jwks prints the public key set of a private key written by 'greenroom keygen', for backend.auth.userTokens.",
		Example: "  greenroom jwks --key dev-user-key.json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if key == "" {
				return usagef("--key is required: name the private key file written by 'greenroom keygen'")
			}
			iss, err := loadIssuer(key)
			if err != nil {
				return err
			}
			return printJWKS(cmd.OutOrStdout(), iss)
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "private key `file` written by 'greenroom keygen' (required)")
	return cmd
}

func loadIssuer(path string) (*auth.UserTokenIssuer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w; create one with 'greenroom keygen --out %s'", err, path)
	}
	iss, err := auth.ParseUserTokenIssuer(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a private key written by 'greenroom keygen' (a public key set printed by keygen or jwks is not one): %w; create one with 'greenroom keygen --out <file>'", path, err)
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
		return fmt.Errorf("%s already exists; use --force to overwrite it", path)
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
