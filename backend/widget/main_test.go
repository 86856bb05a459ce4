package widget_test

import (
	"testing"

	"switchboard/backend/relay/relaytest"
)

// TestMain stops the PostgreSQL server of a run against PostgreSQL.
func TestMain(m *testing.M) { relaytest.Main(m) }
