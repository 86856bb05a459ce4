package client

import "time"

// Backoff exposes the delay before retry n to the tests.
func (c *Client) Backoff(n int) time.Duration { return c.backoff(n) }

// GoingAwayDelay exposes goingAwayDelay to the tests.
const GoingAwayDelay = goingAwayDelay
