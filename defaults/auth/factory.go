package auth

import (
	"context"
	"fmt"

	"github.com/greenroom-dev/greenroom/backend"
	"github.com/greenroom-dev/greenroom/core"
)

// authRootDeps are the dependencies of the root context of [AuthFactory].
type authRootDeps struct {
	Config core.RootConfig
}

// authDeps are the per-plugin dependencies of [AuthFactory].
type authDeps struct {
	Logger    core.Logger
	Discovery core.Discovery
	Plugin    core.PluginMetadata
	Database  core.Database
}

// AuthFactory returns the factory of core.Auth. Its root context is the
// backend's [Keyring], built once from backend.auth; every plugin gets its
// own service keys, published in the plugin's own database (the database
// key store, [WithKeyDatabase]) unless backend.auth.keyStore.type is
// memory. The database is opened, and the key table created, when the
// plugin first issues or verifies a token of its own, not when the service
// is created, so that a plugin that never uses tokens does not pay for it.
func AuthFactory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactoryWithContext(core.AuthRef,
		func(ctx context.Context, d authRootDeps) (*Keyring, error) {
			return NewKeyring(d.Config)
		},
		func(ctx context.Context, k *Keyring, d authDeps) (core.Auth, error) {
			return NewAuth(k, d.Plugin.ID(), d.Discovery, d.Logger, WithKeyDatabase(d.Database))
		})
}

// httpAuthDeps are the dependencies of [HTTPAuthFactory].
type httpAuthDeps struct {
	Auth      core.Auth
	Discovery core.Discovery
	Plugin    core.PluginMetadata
}

// HTTPAuthFactory returns the factory of core.HTTPAuth, on top of the plugin's core.Auth.
// The plugin's external base URL (from core.Discovery) decides whether the
// auth cookie is Secure.
func HTTPAuthFactory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.HTTPAuthRef,
		func(ctx context.Context, d httpAuthDeps) (core.HTTPAuth, error) {
			u, err := d.Discovery.ExternalBaseURL(ctx, d.Plugin.ID())
			if err != nil {
				return nil, fmt.Errorf("auth: plugin '%s': resolving its external base URL for the auth cookie: %w", d.Plugin.ID(), err)
			}
			return NewHTTPAuth(d.Auth, u)
		})
}

// userInfoDeps are the dependencies of [UserInfoFactory]: none.
type userInfoDeps struct{}

// UserInfoFactory returns the factory of core.UserInfo.
func UserInfoFactory() *backend.ServiceFactory {
	return backend.NewPluginServiceFactory(core.UserInfoRef,
		func(ctx context.Context, _ userInfoDeps) (core.UserInfo, error) {
			return NewUserInfo(), nil
		})
}
