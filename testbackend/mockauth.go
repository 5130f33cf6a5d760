package testbackend

import (
	"context"
	"strings"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
)

// mockAuth mints the tokens of package mockservices, which only the mock
// auth service accepts. Service tokens are bound to the plugin they call,
// so that the mock auth checks the target as the real one does.
type mockAuth struct{}

var _ tokenMinter = mockAuth{}

func (mockAuth) userToken(_ context.Context, ref string) (string, error) {
	if _, err := core.ParseUserEntityRef(ref); err != nil {
		return "", err
	}
	return mockcreds.User(ref).Token(), nil
}

func (mockAuth) limitedUserToken(_ context.Context, ref, _ string) (string, error) {
	if _, err := core.ParseUserEntityRef(ref); err != nil {
		return "", err
	}
	return mockcreds.LimitedUser(ref).Token(), nil
}

func (mockAuth) serviceToken(_ context.Context, subject, onBehalfOf, target string) (string, error) {
	if onBehalfOf != "" {
		if _, err := core.ParseUserEntityRef(onBehalfOf); err != nil {
			return "", err
		}
	}
	return mockcreds.ServiceCaller(mockcreds.ServiceOptions{Subject: subject, TargetPluginID: target, OnBehalfOf: onBehalfOf}).Token(), nil
}

// invalidate returns the mock's invalid token of the same kind, which the
// mock auth rejects with that kind's message.
func (mockAuth) invalidate(token string) string {
	switch {
	case strings.HasPrefix(token, "mock-limited-user-token"):
		return mockcreds.InvalidLimitedUserToken
	case strings.HasPrefix(token, "mock-service-token"):
		return mockcreds.InvalidServiceToken
	default:
		return mockcreds.InvalidUserToken
	}
}
