package events

import (
	"fmt"

	"github.com/greenroom-dev/greenroom/core"
)

// OptionsFromConfig reads the bus's options from cfg:
//
//	backend:
//	  events:
//	    store: memory              # or redis; default memory
//	    queueSize: 1024            # memory store: events queued per subscriber
//	    redis:                     # with store: redis
//	      connection: redis://localhost:6379/0
//	      keyPrefix: "greenroom:events:"
//	      maxLen: 10000            # approximate length bound of each topic's stream
//	      claimIdle: 30s           # when another instance takes over unacknowledged events
//
// Errors name the config key and say what is allowed.
func OptionsFromConfig(cfg core.Config) (Options, error) {
	var o Options
	store, _, err := cfg.OptionalString("backend.events.store")
	if err != nil {
		return o, err
	}
	if n, ok, err := cfg.OptionalInt("backend.events.queueSize"); err != nil {
		return o, err
	} else if ok {
		if n <= 0 {
			return o, fmt.Errorf("config key %q: the queue size %d is not positive; use a positive number (default %d)", "backend.events.queueSize", n, DefaultQueueSize)
		}
		o.QueueSize = n
	}
	switch store {
	case "", "memory":
		return o, nil
	case "redis":
	default:
		return o, fmt.Errorf("config key %q: Only \"memory\" or \"redis\" are allowed, but got: %s", "backend.events.store", store)
	}
	var r RedisOptions
	if r.URL, err = cfg.String("backend.events.redis.connection"); err != nil {
		return o, fmt.Errorf("%w; backend.events.store is redis: set the connection to a URL such as redis://localhost:6379/0", err)
	}
	if r.KeyPrefix, _, err = cfg.OptionalString("backend.events.redis.keyPrefix"); err != nil {
		return o, err
	}
	if n, ok, err := cfg.OptionalInt("backend.events.redis.maxLen"); err != nil {
		return o, err
	} else if ok {
		if n <= 0 {
			return o, fmt.Errorf("config key %q: the length %d is not positive; use a positive number (default %d)", "backend.events.redis.maxLen", n, DefaultMaxLen)
		}
		r.MaxLen = int64(n)
	}
	if d, ok, err := cfg.OptionalDuration("backend.events.redis.claimIdle"); err != nil {
		return o, err
	} else if ok {
		if d <= 0 {
			return o, fmt.Errorf("config key %q: the duration %v is not positive; use a positive duration (default %v)", "backend.events.redis.claimIdle", d, DefaultClaimIdle)
		}
		r.ClaimIdle = d
	}
	o.Redis = &r
	return o, nil
}
