package integritybench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/countingproxy"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

// windowHours is the window an auditor re-validates at each run of the AWS
// CLI to find, within the hour as the continuous mode does, a file deleted
// or altered after it was first checked: validate-logs keeps no state, so
// each hourly run reads the whole window again.
const windowHours = 24

var modes = []integrity.LogFileMode{integrity.LogFilesNone, integrity.LogFilesSample, integrity.LogFilesAll}

// comparison is the three arms on one bucket.
type comparison struct {
	w          *world
	proxy      string
	states     map[integrity.LogFileMode]continuous
	cli        result
	verify     result
	continuous map[integrity.LogFileMode]result
	items      map[integrity.LogFileMode]items
}

func compare(tb testing.TB, regions []string, hours int) *comparison {
	tb.Helper()
	cliBin := awsCLI(tb)
	twBin := buildTrailwarden(tb)
	w := newWorld(tb, regions, hours)
	proxy := startProxy(tb, w.srv.URL())
	c := &comparison{w: w, proxy: proxy, states: map[integrity.LogFileMode]continuous{}, continuous: map[integrity.LogFileMode]result{}, items: map[integrity.LogFileMode]items{}}
	c.cli = measure(tb, proxy, "aws cloudtrail validate-logs", func() (time.Duration, int, int) { return runValidateLogs(tb, cliBin, proxy, w) })
	c.verify = measure(tb, proxy, "trailwarden integrity verify", func() (time.Duration, int, int) { return runVerify(tb, twBin, proxy, w) })
	for _, mode := range modes {
		var st continuous
		c.continuous[mode] = measure(tb, proxy, "continuous, logFiles "+string(mode), func() (time.Duration, int, int) {
			cpu, d, l, state := runContinuous(tb, proxy, w, mode)
			st = state
			return cpu, d, l
		})
		c.items[mode] = st.itemSizes(tb)
		c.states[mode] = st
	}
	return c
}

// s3Of is an arm's S3 requests and response bytes.
func s3Of(r result) countingproxy.Op { return r.counts.Sum("s3:") }

// hourlyRatio is how many times fewer S3 requests and bytes the continuous
// arm needs than validate-logs re-run every hour over windowHours, per
// account-hour watched: each run reads the whole window again (windowHours
// account-hours of one pass per account-hour delivered); the continuous
// mode reads each delivered object once.
func (c *comparison) hourlyRatio(cont result) (requests, bytes float64) {
	cli, k := s3Of(c.cli), s3Of(cont)
	return windowHours * float64(cli.Requests) / float64(k.Requests), windowHours * float64(cli.Bytes) / float64(k.Bytes)
}

// writeUnitsPerDigest is a continuous arm's state writes per digest in
// write units: each UpdateItem is billed ceil(KB) of the larger of the
// item before and after it (Amazon DynamoDB Developer Guide, "Read/write
// capacity mode"), here bounded by the largest item either table holds.
func (c *comparison) writeUnitsPerDigest(m integrity.LogFileMode) (updates, units float64) {
	n := float64(c.continuous[m].counts["dynamodb:UpdateItem"].Requests)
	perWrite := math.Ceil(float64(c.items[m].largest()) / 1024)
	d := float64(len(c.w.digests))
	return n / d, n * perWrite / d
}

// report is the comparison as a table (the figures of BENCHMARKS.md).
func (c *comparison) report() string {
	var b strings.Builder
	ah := c.w.accountHours()
	fmt.Fprintf(&b, "bucket: 1 account × %d Regions × %d h: %d digests, %d log files listed (%.0f B per log file, %.0f B per digest on average)\n",
		len(c.w.regions), c.w.hours, len(c.w.digests), len(c.w.listed), c.w.mean(false), c.w.mean(true))
	fmt.Fprintf(&b, "| arm | S3 requests by operation | S3 requests per account-hour | S3 bytes per account-hour | other requests | CPU | CPU per account-hour | wall | validated digests / log files |\n")
	arms := []result{c.cli, c.verify}
	for _, m := range modes {
		arms = append(arms, c.continuous[m])
	}
	for _, r := range arms {
		var ops, other []string
		for _, n := range r.counts.Names() {
			o := r.counts[n]
			if strings.HasPrefix(n, "s3:") {
				ops = append(ops, fmt.Sprintf("%s %d", strings.TrimPrefix(n, "s3:"), o.Requests))
			} else {
				other = append(other, fmt.Sprintf("%s %d", n, o.Requests))
			}
		}
		s := s3Of(r)
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.0f | %s | %.3f s | %.1f ms | %.1f s | %d / %d |\n", r.name, strings.Join(ops, ", "),
			float64(s.Requests)/ah, float64(s.Bytes)/ah, strings.Join(other, ", "), r.cpu.Seconds(), r.cpu.Seconds()*1000/ah, r.wall.Seconds(), r.digests, r.logFiles)
	}
	for _, m := range modes {
		rq, by := c.hourlyRatio(c.continuous[m])
		it := c.items[m]
		upd, wu := c.writeUnitsPerDigest(m)
		fmt.Fprintf(&b, "continuous %s: vs validate-logs re-run hourly over %d h: %.1f× fewer S3 requests, %.1f× fewer bytes; vs one pass: %.2f× / %.2f×; state items: %d digest (largest %d B; %d B before its successor), %d head (largest %d B); %.2f UpdateItem, %.2f write units per digest\n",
			m, windowHours, rq, by, rq/windowHours, by/windowHours, it.digests, it.digestMax, it.ownMax, it.heads, it.headMax, upd, wu)
	}
	fmt.Fprintf(&b, "CPU: validate-logs / integrity verify = %.1f×\n", c.cli.cpu.Seconds()/math.Max(c.verify.cpu.Seconds(), 1e-9))
	return b.String()
}

// mean is the mean stored size of digests or of listed log files.
func (w *world) mean(digests bool) float64 {
	var n, sum float64
	if digests {
		for _, d := range w.digests {
			n, sum = n+1, sum+float64(w.size[d.key])
		}
	} else {
		for _, l := range w.listed {
			n, sum = n+1, sum+float64(w.size[l])
		}
	}
	return sum / math.Max(n, 1)
}

// TestContinuousReadsLessThanValidateLogs: on one bucket, validate-logs
// (one run per Region), `integrity verify` and the continuous mode each
// validate every digest; the continuous mode reads each digest and each
// log file its setting selects exactly once, and nothing else from S3
// (no listing); validate-logs reads at least every object once and lists;
// re-run hourly over a day's window, validate-logs makes ≥ 10× the S3
// requests and bytes of the continuous mode per account-hour, whatever the
// setting; a digest delivered again, even to another instance, is not
// read again. Counts are deterministic (the proxy counts at the emulator).
func TestContinuousReadsLessThanValidateLogs(t *testing.T) {
	c := compare(t, cloudtrailsim.CommercialRegions[:4], 4)
	t.Log("\n" + c.report())
	w := c.w
	allGets, allBytes := w.expectedReads(integrity.LogFilesAll)
	for _, r := range []result{c.cli, c.verify} {
		if r.digests != len(w.digests) || r.logFiles != len(w.listed) {
			t.Errorf("%s validated %d digests, %d log files; want %d, %d", r.name, r.digests, r.logFiles, len(w.digests), len(w.listed))
		}
		if g := r.counts.Sum("s3:GetObject"); g.Requests < allGets || g.Bytes < allBytes {
			t.Errorf("%s read %+v, less than every object once (%d GETs, %d B)", r.name, g, allGets, allBytes)
		}
	}
	if g := c.verify.counts.Sum("s3:GetObject"); g.Requests != allGets || g.Bytes != allBytes {
		t.Errorf("integrity verify read %+v, want each object once: %d GETs, %d B", g, allGets, allBytes)
	}
	for _, mode := range modes {
		r := c.continuous[mode]
		gets, bytes := w.expectedReads(mode)
		if s := s3Of(r); s != (countingproxy.Op{Requests: gets, Bytes: bytes}) || r.counts.Sum("s3:GetObject").Requests != gets {
			t.Errorf("continuous %s: S3 %+v (%v), want only GETs of each selected object once: %d, %d B", mode, s, r.counts, gets, bytes)
		}
		if s3Of(r).Requests >= s3Of(c.cli).Requests || s3Of(r).Bytes > s3Of(c.cli).Bytes {
			t.Errorf("continuous %s: %+v, not below validate-logs' one pass %+v", mode, s3Of(r), s3Of(c.cli))
		}
		if rq, by := c.hourlyRatio(r); rq < 10 || by < 10 {
			t.Errorf("continuous %s: %.1f× fewer requests, %.1f× fewer bytes than validate-logs re-run hourly; want ≥ 10×", mode, rq, by)
		}
		// In order of arrival: the claim, the digest's own side, the head
		// (moved with the link check), each under 1 KB: 3 write units.
		if upd, wu := c.writeUnitsPerDigest(mode); upd != 3 || wu != 3 {
			t.Errorf("continuous %s: %.2f UpdateItem, %.2f write units per digest (largest item %d B); want 3 and 3", mode, upd, wu, c.items[mode].largest())
		}
	}
	// Every digest delivered again, to another instance: nothing is read
	// again; each costs one claim refused by its condition.
	again := c.states[integrity.LogFilesAll].redeliver(t, c.proxy, w)
	if s := again.Sum("s3:"); s.Requests != 0 || again["dynamodb:UpdateItem"].Requests != int64(len(w.digests)) {
		t.Errorf("redelivery: %v, want no S3 request and one UpdateItem per digest (%d)", again, len(w.digests))
	}
}

// BenchmarkIntegrityVsValidateLogs is the comparison at the size of the
// figures: 1 account × 17 Regions × 24 h of the reference model. One
// iteration (-benchtime 1x); the table is printed.
func BenchmarkIntegrityVsValidateLogs(b *testing.B) {
	c := compare(b, cloudtrailsim.CommercialRegions, 24)
	// Printed, not logged: a benchmark's log is cut after ten lines.
	fmt.Print(c.report())
	ah := c.w.accountHours()
	b.ReportMetric(float64(s3Of(c.cli).Requests)/ah, "cli-s3-req/account-hour")
	b.ReportMetric(float64(s3Of(c.continuous[integrity.LogFilesAll]).Requests)/ah, "continuous-all-s3-req/account-hour")
	b.ReportMetric(c.cli.cpu.Seconds(), "cli-cpu-s")
	b.ReportMetric(c.verify.cpu.Seconds(), "verify-cpu-s")
	b.ReportMetric(c.continuous[integrity.LogFilesAll].cpu.Seconds(), "continuous-all-cpu-s")
	_, wu := c.writeUnitsPerDigest(integrity.LogFilesNone)
	b.ReportMetric(wu, "continuous-write-units/digest")
}
