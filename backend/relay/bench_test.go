package relay_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"switchboard/backend/protocol"
	"switchboard/backend/relay/relaytest"
)

// BenchmarkTransferOffer measures how long a transfer offer takes from the
// owner's transfer.start to the receiver's transfer event, over real
// websockets and a real SQLite file (synchronous=FULL), while 1,000 chats
// are open with their visitors connected. Each round is rejected so the next
// can start. Reports p50/p99 in µs; run with
//
//	go test -run '^$' -bench TransferOffer -benchtime 2000x ./backend/relay/
func BenchmarkTransferOffer(b *testing.B) {
	const idleChats = 1000
	relaytest.Timeout = 30 * time.Second
	h := relaytest.Start(b, relaytest.Options{})
	anna, _ := h.Agent("anna", nil)
	bertil, _ := h.Agent("bertil", nil)
	var sids []string
	for i := 0; i < idleChats; i++ {
		_, st := h.Visitor(fmt.Sprintf("Visitor%d", i), "hello")
		sids = append(sids, st.Session)
		anna.OK(protocol.CmdSessionPick, protocol.SessionRef{Session: st.Session}, nil)
	}
	to := h.ID("bertil")
	lat := make([]time.Duration, 0, b.N)
	from := len(bertil.Events())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sid := sids[i%len(sids)]
		start := time.Now()
		var ti protocol.TransferInfo
		anna.OK(protocol.CmdTransferStart, protocol.TransferStart{Session: sid, To: to}, &ti)
		_, idx := bertil.Event(protocol.EvTransfer, from, func(f protocol.ServerFrame) bool {
			var x protocol.TransferInfo
			_ = json.Unmarshal(f.Data, &x)
			return x.ID == ti.ID && x.State == protocol.TransferPending
		})
		lat = append(lat, time.Since(start))
		from = idx + 1
		bertil.OK(protocol.CmdTransferReject, protocol.TransferRef{Transfer: ti.ID}, nil)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
