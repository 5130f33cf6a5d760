package servicetest_test

// A suite that cannot fail proves nothing. TestSuitesCatchDrift runs each
// suite against an implementation that breaks one contract, in a child
// process of this test binary (a suite takes a *testing.T, whose failure
// cannot be caught in-process), and checks that the suite fails there, in
// the subtest named after the broken contract.

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/core"
	"github.com/greenroom-dev/greenroom/defaults/events"
	"github.com/greenroom-dev/greenroom/defaults/httprouter"
	"github.com/greenroom-dev/greenroom/errs"
	"github.com/greenroom-dev/greenroom/mockservices"
	"github.com/greenroom-dev/greenroom/mockservices/mockcreds"
	"github.com/greenroom-dev/greenroom/servicetest"
)

const driftEnv = "SERVICETEST_RUN_DRIFTED"

// drifted are implementations that each break one contract, and the
// subtest of the suite that must catch it.
var drifted = []struct {
	name     string
	run      func(t *testing.T)
	wantFail string // a subtest name, as go test prints it
}{
	{"HTTPAuth ignores allow", func(t *testing.T) {
		env := func(t *testing.T) servicetest.AuthEnv {
			e := mockEnv(t)
			e.HTTPAuth = func(a core.Auth) core.HTTPAuth { return ignoreAllow{mockservices.HTTPAuth(a)} }
			return e
		}
		servicetest.TestHTTPAuth(t, env)
	}, "no_header_is_refused_where_none_is_not_allowed"},
	{"Auth accepts any token", func(t *testing.T) {
		env := func(t *testing.T) servicetest.AuthEnv {
			e := mockEnv(t)
			e.Auth = func(id string) core.Auth { return acceptAll{mockservices.Auth(id)} }
			return e
		}
		servicetest.TestAuth(t, env)
	}, "garbage_tokens_are_authentication_errors"},
	{"UserInfo ignores ownership", func(t *testing.T) {
		env := func(t *testing.T) servicetest.AuthEnv {
			e := mockEnv(t)
			e.UserInfo = func() core.UserInfo { return ownsItself{} }
			return e
		}
		servicetest.TestUserInfo(t, env)
	}, "a_user's_ownership_refs_come_from_its_token"},
	{"Discovery adds a trailing slash", func(t *testing.T) {
		servicetest.TestDiscovery(t, func(t *testing.T) core.Discovery { return trailingSlash{mockservices.Discovery("")} })
	}, "BaseURL_is_an_absolute_URL_ending_in_/api/<pluginId>"},
	{"Database shared between plugins", func(t *testing.T) {
		dbs := map[*testing.T]core.Database{}
		servicetest.TestDatabase(t, func(t *testing.T, _ string) core.Database {
			if dbs[t] == nil {
				dbs[t] = mockservices.Database(t)
			}
			return dbs[t]
		})
	}, "the_databases_of_two_plugins_are_isolated"},
	{"RootHealth ready before start", func(t *testing.T) {
		servicetest.TestRootHealth(t, func(*testing.T, core.RootLifecycle) core.RootHealth { return mockservices.RootHealth() })
	}, "not_ready_before_the_backend_has_started"},
	{"Lifecycle accepts late hooks", func(t *testing.T) {
		servicetest.TestLifecycle(t, func(t *testing.T, init func(core.Lifecycle)) (start, stop func(context.Context) error) {
			lc := &lateLifecycle{mockservices.Lifecycle()}
			init(lc)
			return lc.RunStartupHooks, lc.RunShutdownHooks
		})
	}, "adding_a_startup_hook_after_start_is_an_error"},
	{"Logger With drops its attributes", func(t *testing.T) {
		servicetest.TestLogger(t, func(t *testing.T) (core.Logger, func() []map[string]any) {
			l := mockservices.Logger(t)
			return withless{l}, func() []map[string]any {
				var out []map[string]any
				for _, r := range l.Records() {
					m := map[string]any{"level": r.Level.String(), "msg": r.Message}
					for k, v := range r.Attrs {
						m[k] = v
					}
					out = append(out, m)
				}
				return out
			}
		})
	}, "With_adds_its_attributes_to_every_record_of_the_child"},
	{"HTTP router with an implicit user", func(t *testing.T) {
		servicetest.TestHTTPRouter(t, func(t *testing.T, setup func(core.HTTPRouter)) servicetest.RouterEnv {
			a := mockservices.Auth("todo")
			h := mockservices.HTTPAuth(a, mockservices.WithDefaultCredentials(mockcreds.User().Credentials()))
			lc := mockservices.Lifecycle()
			rt, err := httprouter.New(httprouter.Options{PluginID: "todo", Auth: a, HTTPAuth: h, Lifecycle: lc})
			if err != nil {
				t.Fatal(err)
			}
			setup(rt)
			root := httprouter.NewRoot(httprouter.RootOptions{})
			_ = root.Use(rt.MountPath(), rt)
			_ = lc.RunStartupHooks(context.Background())
			return servicetest.RouterEnv{Handler: root.Handler(), MountPath: rt.MountPath(), UserHeader: mockcreds.User().Header(), UserCookie: mockcreds.LimitedUser().Cookie()}
		})
	}, "a_registered_route_needs_credentials"},
	{"Scheduler triggers a running task", func(t *testing.T) {
		servicetest.TestScheduler(t, func(t testing.TB) core.Scheduler { return reTrigger{productionScheduler(t)} })
	}, "triggering_a_running_global_task_is_a_conflict"},
	{"Cache shared between plugins", func(t *testing.T) {
		servicetest.TestCache(t, func(t *testing.T) servicetest.CacheEnv {
			c := mockservices.Cache()
			return servicetest.CacheEnv{ForPlugin: func(string) core.Cache { return c.ForPlugin("servicetest") }, Advance: c.Advance}
		})
	}, "two_plugins_never_see_each_other's_keys"},
	{"Cache ignores the default TTL", func(t *testing.T) {
		servicetest.TestCache(t, func(t *testing.T) servicetest.CacheEnv {
			c := mockservices.Cache()
			return servicetest.CacheEnv{ForPlugin: func(id string) core.Cache { return noDefaultTTL{c.ForPlugin(id)} }, Advance: c.Advance}
		})
	}, "WithDefaultTTL_applies_to_a_ttl_of_0"},
	{"Events drops metadata", func(t *testing.T) {
		servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
			env := productionEvents(t, events.Options{})
			return servicetest.EventsEnv{ForPlugin: func(id string) core.Events { return noMetadata{env.ForPlugin(id)} }}
		})
	}, "payload_and_metadata_arrive_unchanged"},
	{"Events shares one event between subscribers", func(t *testing.T) {
		servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
			env := productionEvents(t, events.Options{})
			shared := &sharedEvent{}
			return servicetest.EventsEnv{ForPlugin: func(id string) core.Events { return sharing{env.ForPlugin(id), shared} }}
		})
	}, "each_subscriber_receives_its_own_copy_of_payload_and_metadata"},
	{"Events fake delivers to every topic", func(t *testing.T) {
		servicetest.TestEvents(t, func(t *testing.T) servicetest.EventsEnv {
			e := mockservices.Events()
			return servicetest.EventsEnv{ForPlugin: func(id string) core.Events { return allTopics{e.ForPlugin(id)} }}
		})
	}, "an_event_reaches_the_subscribers_of_its_topic_only"},
	{"Permissions asks the policy for anyone", func(t *testing.T) {
		servicetest.TestPermissions(t, func(t *testing.T, policy core.PermissionPolicy) core.Permissions { return askAnyway{policy} })
	}, "none_and_limited_credentials_are_denied_without_asking_the_policy"},
	{"Auditor lets Fail override Success", func(t *testing.T) {
		servicetest.TestAuditor(t, func(t *testing.T, pluginID string) (core.Auditor, func() []servicetest.AuditRecord) {
			a := mockservices.Auditor()
			return reopen{a.ForPlugin(pluginID)}, func() []servicetest.AuditRecord { return fakeAuditRecords(a.Events()) }
		})
	}, "only_the_first_of_Success_and_Fail_counts"},
	{"URLReader ignores the ETag", func(t *testing.T) {
		servicetest.TestURLReader(t, func(t *testing.T) servicetest.URLReaderEnv {
			env := productionURLReaderEnv(t)
			env.Reader = ignoreETag{env.Reader}
			return env
		})
	}, "an_unchanged_ETag_is_not_modified"},
	{"InstanceMetadata in the order of Add", func(t *testing.T) {
		servicetest.TestInstanceMetadata(t, func(t *testing.T, plugins []core.InstalledPlugin) core.RootInstanceMetadata {
			return addOrder(plugins)
		})
	}, "plugins_and_modules_are_sorted"},
}

// askAnyway is a permissions service that skips the credential checks:
// it asks the policy about every request, for every caller.
type askAnyway struct{ policy core.PermissionPolicy }

func (p askAnyway) Authorize(ctx context.Context, creds core.Credentials, reqs ...core.PermissionRequest) ([]core.PermissionDecision, error) {
	var out []core.PermissionDecision
	for _, r := range reqs {
		if r.Permission.Name == "" || (r.Permission.ResourceType == "" && r.ResourceRef != "") {
			return nil, errs.NewInput("invalid request")
		}
		d, err := p.policy.Decide(ctx, core.PolicyQuery{Request: r, Credentials: creds, User: &core.UserDetails{UserEntityRef: creds.Principal.UserEntityRef}})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// reopen is an auditor whose events take every Fail after the first end
// as a new event's failure.
type reopen struct{ core.Auditor }

func (a reopen) CreateEvent(ctx context.Context, opts core.AuditEventOptions) (core.AuditEvent, error) {
	ev, err := a.Auditor.CreateEvent(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &reopened{a: a.Auditor, opts: opts, AuditEvent: ev}, nil
}

type reopened struct {
	a    core.Auditor
	opts core.AuditEventOptions
	core.AuditEvent
}

func (e *reopened) Fail(ctx context.Context, err error, meta map[string]any) {
	e.AuditEvent.Fail(ctx, err, meta)
	if ev, cerr := e.a.CreateEvent(ctx, e.opts); cerr == nil {
		ev.Fail(ctx, err, meta)
	}
}

// fakeAuditRecords are the fake's events as the auditor suite reads them.
func fakeAuditRecords(events []mockservices.AuditRecord) []servicetest.AuditRecord {
	var out []servicetest.AuditRecord
	for _, e := range events {
		r := servicetest.AuditRecord{Plugin: e.PluginID, EventID: e.EventID, Severity: string(e.Severity),
			ActorSubject: e.ActorSubject, ActorType: string(e.Actor.Type), Method: e.Method, URL: e.URL,
			Meta: e.Meta, Status: string(e.Status)}
		if e.Status == mockservices.AuditOpen {
			r.Status = "initiated"
		}
		if e.Err != nil {
			r.Error = e.Err.Error()
		}
		out = append(out, r)
	}
	return out
}

// noMetadata publishes events without their metadata.
type noMetadata struct{ core.Events }

func (n noMetadata) Publish(ctx context.Context, e core.Event) error {
	e.Metadata = nil
	return n.Events.Publish(ctx, e)
}

// sharedEvent is the first event delivered on each topic.
type sharedEvent struct {
	mu    sync.Mutex
	first map[string]core.Event
}

// sharing hands every subscriber of a topic the payload and metadata of
// the first delivery on it, as a bus that shares them would.
type sharing struct {
	core.Events
	shared *sharedEvent
}

func (s sharing) Subscribe(ctx context.Context, sub core.Subscription) error {
	h := sub.Handler
	sub.Handler = func(ctx context.Context, e core.Event) error {
		s.shared.mu.Lock()
		if first, ok := s.shared.first[e.Topic]; ok {
			e = first
		} else {
			if s.shared.first == nil {
				s.shared.first = map[string]core.Event{}
			}
			s.shared.first[e.Topic] = e
		}
		s.shared.mu.Unlock()
		return h(ctx, e)
	}
	return s.Events.Subscribe(ctx, sub)
}

// allTopics publishes each event on every topic the test uses.
type allTopics struct{ core.Events }

func (a allTopics) Publish(ctx context.Context, e core.Event) error {
	for _, topic := range []string{"order.created", "order.deleted"} {
		if topic != e.Topic {
			other := e
			other.Topic = topic
			if err := a.Events.Publish(ctx, other); err != nil {
				return err
			}
		}
	}
	return a.Events.Publish(ctx, e)
}

// noDefaultTTL ignores WithDefaultTTL.
type noDefaultTTL struct{ core.Cache }

func (c noDefaultTTL) WithDefaultTTL(time.Duration) core.Cache { return c }

// reTrigger accepts a trigger of a running task instead of refusing it.
type reTrigger struct{ core.Scheduler }

func (s reTrigger) TriggerTask(ctx context.Context, id string) error {
	if err := s.Scheduler.TriggerTask(ctx, id); err != nil && !errs.Is(err, errs.Conflict) {
		return err
	}
	return nil
}

func TestSuitesCatchDrift(t *testing.T) {
	if os.Getenv(driftEnv) != "" {
		return // this is the child process
	}
	for _, d := range drifted {
		t.Run(d.name, func(t *testing.T) {
			name := strings.ReplaceAll(d.name, " ", "_")
			cmd := exec.Command(os.Args[0], "-test.run=^TestDrifted$/^"+regexp.QuoteMeta(name)+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), driftEnv+"=1")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an implementation where %s:\n%s", d.name, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestDrifted/"+name+"/"+d.wantFail) {
				t.Errorf("the suite failed, but not in the subtest %q:\n%s", d.wantFail, out)
			}
		})
	}
}

// TestDrifted runs the suites against the drifted implementations, in the
// child processes of TestSuitesCatchDrift only; there, it must fail.
func TestDrifted(t *testing.T) {
	if os.Getenv(driftEnv) == "" {
		t.Skip("run by TestSuitesCatchDrift, in a child process")
	}
	for _, d := range drifted {
		t.Run(d.name, d.run)
	}
}

func mockEnv(*testing.T) servicetest.AuthEnv {
	return servicetest.AuthEnv{
		Auth: func(id string) core.Auth { return mockservices.Auth(id) },
		UserToken: func(ref string, ownership ...string) string {
			return mockcreds.User(ref).WithOwnership(ownership...).Token()
		},
		HTTPAuth: func(a core.Auth) core.HTTPAuth { return mockservices.HTTPAuth(a) },
		UserInfo: func() core.UserInfo { return mockservices.UserInfo() },
	}
}

type ignoreAllow struct{ core.HTTPAuth }

func (h ignoreAllow) Credentials(r *http.Request, _ ...core.PrincipalType) (core.Credentials, error) {
	return h.HTTPAuth.Credentials(r)
}

type acceptAll struct{ core.Auth }

func (acceptAll) Authenticate(context.Context, string) (core.Credentials, error) {
	return mockcreds.User().Credentials(), nil
}

type ownsItself struct{}

func (ownsItself) Get(ctx context.Context, c core.Credentials) (core.UserDetails, error) {
	d, err := mockservices.UserInfo().Get(ctx, c)
	if err != nil {
		return d, err
	}
	d.OwnershipEntityRefs = []string{d.UserEntityRef}
	return d, nil
}

type trailingSlash struct{ core.Discovery }

func (d trailingSlash) BaseURL(ctx context.Context, id string) (string, error) {
	u, err := d.Discovery.BaseURL(ctx, id)
	return u + "/", err
}

type lateLifecycle struct{ *mockservices.LifecycleService }

// AddStartupHook swallows the refusal of a late hook.
func (l *lateLifecycle) AddStartupHook(h core.Hook) error {
	_ = l.LifecycleService.AddStartupHook(h)
	return nil
}

type withless struct{ core.Logger }

func (l withless) With(...any) core.Logger { return l }

type ignoreETag struct{ core.URLReader }

func (r ignoreETag) ReadURL(ctx context.Context, url string, opts core.ReadURLOptions) (core.ReadURLResponse, error) {
	opts.ETag = ""
	return r.URLReader.ReadURL(ctx, url, opts)
}

// addOrder lists the plugins as they were added, unsorted.
type addOrder []core.InstalledPlugin

func (a addOrder) InstalledPlugins(context.Context) ([]core.InstalledPlugin, error) {
	out := make([]core.InstalledPlugin, len(a))
	for i, p := range a {
		out[i] = core.InstalledPlugin{PluginID: p.PluginID, Modules: append([]string{}, p.Modules...)}
	}
	return out, nil
}
