package verifier

import (
	"context"
	"maps"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Metric names. Only the two an alarm watches are CloudWatch metrics
// (dimension Service=verifier): a custom metric costs the same each month
// whatever its traffic. The others are fields of the same EMF log event,
// summed over the metrics interval, for CloudWatch Logs Insights (the
// dashboard's log widgets); DeliveredLogFilesByRegion maps Region → log
// files.
const (
	MetricDeliveredLogFiles      = "DeliveredLogFiles"
	MetricSecurityFindings       = "SecurityFindings"
	MetricDeliveredDigestFiles   = "DeliveredDigestFiles"
	MetricMalformedNotifications = "MalformedNotifications"
	MetricValidationMessages     = "ValidationMessages"
	MetricNotCloudTrailMessages  = "NotCloudTrailMessages"
	MetricLedgerWrites           = "LedgerWrites"
	MetricLedgerWriteFailures    = "LedgerWriteFailures"
	FieldDeliveredLogFilesRegion = "DeliveredLogFilesByRegion"
)

// tally sums the log-only counts between metric flushes (a warm instance
// runs one invocation at a time).
type tally struct {
	counts  map[string]int
	regions map[string]int
}

// batch adds one invocation's counts; the metrics themselves go to
// telemetry.Metrics, which sums them.
func (t *tally) batch(b *batch, fr ledger.FlushResult) {
	if t.counts == nil {
		t.counts, t.regions = map[string]int{}, map[string]int{}
	}
	for name, n := range map[string]int{MetricDeliveredDigestFiles: b.digests, MetricMalformedNotifications: b.malformed,
		MetricValidationMessages: b.validation, MetricNotCloudTrailMessages: b.notCloudTrail,
		MetricLedgerWrites: fr.JournalWrites, MetricLedgerWriteFailures: len(fr.Failed)} {
		t.counts[name] += n
	}
	for region, n := range b.logs {
		t.regions[region] += n
	}
}

// flushMetrics writes the metrics and the tally as one EMF document.
func (p *Processor) flushMetrics(ctx context.Context) {
	m := p.Metrics
	logs := 0
	for _, n := range p.tally.regions {
		logs += n
	}
	m.Count(MetricDeliveredLogFiles, logs)
	m.Count(MetricSecurityFindings, 0) // summed with the batches' findings
	for name, n := range p.tally.counts {
		m.Property(name, n)
	}
	m.Property(FieldDeliveredLogFilesRegion, maps.Clone(p.tally.regions))
	p.tally = tally{}
	if err := m.Flush(ctx); err != nil {
		p.Logger.WarnContext(ctx, "metrics not written", "error", err.Error())
	}
}
