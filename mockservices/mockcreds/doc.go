// Package mockcreds builds the mock callers of a test: the credentials the
// auth fakes of package mockservices yield for them, the tokens they
// present and the Authorization header or cookie carrying those tokens. It
// is Backstage's mockCredentials.
//
// The auth fakes accept only mock tokens, never real ones, and real
// services never accept mock tokens. A [Caller] gives a mock caller's
// credentials, token and Authorization header:
//
//	req.Header.Set("Authorization", mockcreds.User("user:default/alice").Header())
//
// [User], [LimitedUser], [ServiceCaller] and [None] build the callers. The
// tokens are those of Backstage's mockCredentials: "mock-user-token",
// `mock-user-token:{"sub":"user:default/alice"}`, "mock-service-token",
// `mock-service-token:{"sub":...,"target":...,"obo":...}` and the invalid
// [InvalidUserToken], [InvalidLimitedUserToken] and [InvalidServiceToken].
// A service token names the plugin it is for and the auth fake of any other
// plugin refuses it, so tests check plugin-to-plugin scoping without keys.
//
// Unlike Backstage's mocks, a request without a token has none
// credentials: routes without an auth policy answer it 401, as in
// production. A test that wants an implicit user says so with
// mockservices.WithDefaultCredentials.
//
// With package testbackend, requests choose their caller with
// Request.AsUser, Request.AsService and their siblings, which send these
// tokens; build a Caller to call a handler or a fake directly.
package mockcreds
