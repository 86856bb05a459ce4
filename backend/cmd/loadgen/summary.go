package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// The two scenarios of `make load`: flat out (as fast as acknowledged), and
// a fixed rate with transfers for the latency figures.
const (
	scenThroughput = "throughput"
	scenLatency    = "latency"
)

// targetSummary is one target's medians over the rounds of one scenario.
type targetSummary struct {
	Rounds          int     `json:"rounds"`
	DeliveredPerSec float64 `json:"delivered_per_s"`
	CPU             float64 `json:"cpu_cores"`
	CPUPerDelivery  float64 `json:"cpu_us_per_delivery"`
	Latency         latency `json:"publish_to_deliver"`
	Offer           latency `json:"transfer_offer"`
	RSS             int64   `json:"rss_bytes"`
	PeakRSS         int64   `json:"peak_rss_bytes"`
	Others          float64 `json:"other_cpu_cores"`
}

// summary holds, per scenario, every target's medians and the relay's ratios
// to the durable hub (the budgets of DESIGN.md) and to the in-memory one.
type summary struct {
	Scenarios map[string]map[string]targetSummary `json:"scenarios"`
	Ratios    map[string]map[string]float64       `json:"ratios_to_durable,omitempty"`
}

// targetOrder is the order of the rows in every table.
var targetOrder = []string{"relay", "durable", "baseline"}

func summarize(runs []result) *summary {
	s := &summary{Scenarios: map[string]map[string]targetSummary{}, Ratios: map[string]map[string]float64{}}
	groups := map[[2]string][]result{}
	for _, r := range runs {
		k := [2]string{r.scenario(), r.Target}
		groups[k] = append(groups[k], r)
	}
	for k, rs := range groups {
		med := func(f func(result) float64) float64 {
			xs := make([]float64, len(rs))
			for i, r := range rs {
				xs[i] = f(r)
			}
			return median(xs)
		}
		lat := func(f func(result) latency) latency {
			return latency{Count: int64(med(func(r result) float64 { return float64(f(r).Count) })),
				P50: med(func(r result) float64 { return f(r).P50 }), P99: med(func(r result) float64 { return f(r).P99 }),
				Max: med(func(r result) float64 { return f(r).Max })}
		}
		ts := targetSummary{Rounds: len(rs),
			DeliveredPerSec: med(func(r result) float64 { return r.DeliveredPerSec }),
			CPU:             med(func(r result) float64 { return r.CPU }),
			CPUPerDelivery:  med(func(r result) float64 { return r.cpuPerDelivery() }),
			Latency:         lat(func(r result) latency { return r.Latency }),
			Offer:           lat(func(r result) latency { return r.Offer }),
			RSS:             int64(med(func(r result) float64 { return float64(r.RSS) })),
			PeakRSS:         int64(med(func(r result) float64 { return float64(r.PeakRSS) })),
			Others:          med(func(r result) float64 { return r.OtherCPU }),
		}
		if s.Scenarios[k[0]] == nil {
			s.Scenarios[k[0]] = map[string]targetSummary{}
		}
		s.Scenarios[k[0]][k[1]] = ts
	}
	for sc, ts := range s.Scenarios {
		rel, ok1 := ts["relay"]
		dur, ok2 := ts["durable"]
		if !ok1 || !ok2 {
			continue
		}
		m := map[string]float64{}
		if dur.DeliveredPerSec > 0 {
			m["throughput"] = rel.DeliveredPerSec / dur.DeliveredPerSec
		}
		if dur.CPUPerDelivery > 0 {
			m["cpu_per_delivery"] = rel.CPUPerDelivery / dur.CPUPerDelivery
		}
		if dur.Latency.P50 > 0 {
			m["p50"] = rel.Latency.P50 / dur.Latency.P50
		}
		if dur.Latency.P99 > 0 {
			m["p99"] = rel.Latency.P99 / dur.Latency.P99
		}
		if dur.RSS > 0 {
			m["rss"] = float64(rel.RSS) / float64(dur.RSS)
		}
		s.Ratios[sc] = m
	}
	return s
}

func (r result) scenario() string {
	if r.Scenario == "" {
		return scenThroughput
	}
	return r.Scenario
}

// cpuPerDelivery is the target's CPU time per delivered message, in µs.
func (r result) cpuPerDelivery() float64 {
	if r.DeliveredPerSec <= 0 {
		return 0
	}
	return r.CPU / r.DeliveredPerSec * 1e6
}

func printSummary(w io.Writer, rep *report) {
	fmt.Fprintf(w, "\nswitchboard loadgen: %d visitors, %d agents, %d supervisors, %d in flight per chat, ",
		rep.Shape.Visitors, rep.Shape.Agents, rep.Shape.Supervisors, rep.Shape.InFlight)
	if rep.Shape.Rate > 0 {
		fmt.Fprintf(w, "%.0f msgs/s", rep.Shape.Rate)
	} else {
		fmt.Fprint(w, "as fast as acknowledged")
	}
	fmt.Fprintf(w, ", %d-byte texts, %.0fs measured", rep.Shape.Size, rep.Shape.Duration)
	if rep.Shape.Transfers > 0 {
		fmt.Fprintf(w, ", %.0f transfers/s", rep.Shape.Transfers)
	}
	if rep.Shape.LatencyRate > 0 {
		fmt.Fprintf(w, "; latency scenario %.0f msgs/s, %.0f transfers/s", rep.Shape.LatencyRate, rep.Shape.LatencyTransfers)
	}
	fmt.Fprintf(w, "\nhost: %d CPUs, load average at start %s\n\n", rep.Host.CPUs, rep.Host.Load1)
	if len(rep.Runs) > 0 {
		fmt.Fprintf(w, "%-10s %-8s %5s %6s %12s %7s %8s %8s %8s %9s %9s %9s %6s %7s %7s %5s %4s %6s\n", "scenario", "target", "round", "conns",
			"delivered/s", "µs/del", "p50 ms", "p99 ms", "max ms", "offer p50", "offer p99", "rss MiB", "cpu", "lg cpu", "others", "lost", "dup", "errors")
		for _, r := range rep.Runs {
			var errs int64
			for _, v := range r.Errors {
				errs += v
			}
			fmt.Fprintf(w, "%-10s %-8s %5d %6d %12.0f %7.1f %8.2f %8.2f %8.1f %9.2f %9.2f %9.1f %6.2f %7.2f %7.2f %5d %4d %6d\n",
				r.scenario(), r.Target, r.Round, r.Connections, r.DeliveredPerSec, r.cpuPerDelivery(), r.Latency.P50, r.Latency.P99, r.Latency.Max,
				r.Offer.P50, r.Offer.P99, float64(r.RSS)/(1<<20), r.CPU, r.LoadgenCPU, r.OtherCPU, r.Check.lost(), r.Check.Duplicated, errs)
		}
		for _, r := range rep.Runs {
			if len(r.Errors) > 0 {
				keys := make([]string, 0, len(r.Errors))
				for k := range r.Errors {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys {
					parts = append(parts, fmt.Sprintf("%s=%d", k, r.Errors[k]))
				}
				fmt.Fprintf(w, "errors %s %s round %d: %s\n", r.scenario(), r.Target, r.Round, strings.Join(parts, " "))
			}
			if len(r.Transfers) > 0 {
				fmt.Fprintf(w, "transfers %s %s round %d: %v\n", r.scenario(), r.Target, r.Round, r.Transfers)
			}
		}
	}
	if rep.Summary != nil {
		fmt.Fprintln(w)
		writeMarkdown(w, rep)
	}
	if id := rep.Idle; id != nil {
		fmt.Fprintf(w, "\nidle: %d connections, relay rss %s -> %s, %.1f KiB per connection (connected in %.1fs)\n",
			id.Connections, mib(id.RSSBefore), mib(id.RSSAfter), id.PerConn/1024, id.Seconds)
	}
	for _, f := range rep.Failures {
		fmt.Fprintln(w, "FAIL:", f)
	}
}

// writeMarkdown writes the medians as the tables of docs/performance.md.
func writeMarkdown(w io.Writer, rep *report) {
	s := rep.Summary
	rounds := 0
	for _, ts := range s.Scenarios {
		for _, t := range ts {
			rounds = max(rounds, t.Rounds)
		}
	}
	fmt.Fprintf(w, "Medians of %d rounds, %s, load average at start %s.\n\n", rounds, rep.Started.UTC().Format("2006-01-02 15:04 UTC"), rep.Host.Load1)
	if ts := s.Scenarios[scenThroughput]; ts != nil {
		fmt.Fprintf(w, "**Throughput** (%d chats, %d connections, %d in flight per chat, as fast as acknowledged)\n\n",
			rep.Shape.Visitors, rep.Shape.Visitors+rep.Shape.Agents+rep.Shape.Supervisors, rep.Shape.InFlight)
		fmt.Fprintln(w, "| server | deliveries/s | server CPU | CPU per delivery | RSS at the end | peak RSS | others |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
		for _, name := range orderedTargets(ts) {
			t := ts[name]
			fmt.Fprintf(w, "| %s | %.0f | %.2f cores | %.1f µs | %.1f MiB | %.1f MiB | %.2f |\n", targetLabel(name), t.DeliveredPerSec, t.CPU,
				t.CPUPerDelivery, float64(t.RSS)/(1<<20), float64(t.PeakRSS)/(1<<20), t.Others)
		}
		writeRatios(w, s.Ratios[scenThroughput], "throughput", "cpu_per_delivery", "rss")
	}
	if ts := s.Scenarios[scenLatency]; ts != nil {
		fmt.Fprintf(w, "\n**Latency** (%.0f messages/s, each delivered twice, %.0f transfer offers/s)\n\n", rep.Shape.LatencyRate, rep.Shape.LatencyTransfers)
		fmt.Fprintln(w, "| server | deliveries/s | p50 | p99 | max | transfer offer p99 | server CPU | CPU per delivery | RSS | others |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
		for _, name := range orderedTargets(ts) {
			t := ts[name]
			offer := "–"
			if t.Offer.Count > 0 {
				offer = fmt.Sprintf("%.2f ms (%d)", t.Offer.P99, t.Offer.Count)
			}
			fmt.Fprintf(w, "| %s | %.0f | %.2f ms | %.2f ms | %.1f ms | %s | %.2f cores | %.1f µs | %.1f MiB | %.2f |\n", targetLabel(name),
				t.DeliveredPerSec, t.Latency.P50, t.Latency.P99, t.Latency.Max, offer, t.CPU, t.CPUPerDelivery, float64(t.RSS)/(1<<20), t.Others)
		}
		writeRatios(w, s.Ratios[scenLatency], "p50", "p99", "cpu_per_delivery")
	}
}

func writeRatios(w io.Writer, m map[string]float64, keys ...string) {
	if len(m) == 0 {
		return
	}
	var parts []string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", strings.ReplaceAll(k, "_", " "), v))
		}
	}
	fmt.Fprintf(w, "\nrelay / durable hub: %s\n", strings.Join(parts, ", "))
}

func orderedTargets(ts map[string]targetSummary) []string {
	var out []string
	for _, n := range targetOrder {
		if _, ok := ts[n]; ok {
			out = append(out, n)
		}
	}
	for n := range ts {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func targetLabel(name string) string {
	switch name {
	case "durable":
		return "durable hub (SQLite, group commit)"
	case "baseline":
		return "in-memory hub"
	}
	return name
}

func writeMarkdownFile(path string, rep *report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	writeMarkdown(f, rep)
	return f.Close()
}
