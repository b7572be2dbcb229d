package verifier

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// Metric names.
const (
	MetricDeliveredLogFiles      = "DeliveredLogFiles"
	MetricDeliveredDigestFiles   = "DeliveredDigestFiles"
	MetricSecurityFindings       = "SecurityFindings"
	MetricMalformedNotifications = "MalformedNotifications"
	MetricValidationMessages     = "ValidationMessages"
	MetricNotCloudTrailMessages  = "NotCloudTrailMessages"
	MetricLedgerWrites           = "LedgerWrites"
	MetricLedgerWriteFailures    = "LedgerWriteFailures"
)

// Processor handles batches of the delivery queue. Build it with New (from
// configuration) or by hand in tests; every field except S3 (needed only
// when ObjectCheck is not none) is required.
type Processor struct {
	Rules Rules
	// KMSKeyARN is the key objects must be encrypted with; "" does not
	// judge encryption (a policy with keyArn "none").
	KMSKeyARN   string
	ObjectCheck ObjectCheck
	// SampleRate is the share of objects checked with CheckSample.
	SampleRate float64
	S3         HeadObjectAPI
	Members    *Members
	Ledger     *ledger.Writer
	Findings   *Findings
	Metrics    *telemetry.Metrics
	Logger     *slog.Logger
	Now        func() time.Time
	// BatchSize is the event source's batch size: a smaller batch means the
	// queue is drained, and everything pending is written (0: always).
	BatchSize int
	// Reserve is kept free before the deadline (sqsbatch default when 0).
	Reserve time.Duration
	// MetricsInterval: metrics are summed in the warm instance and written
	// at most once per interval (0: every invocation). A batch with
	// failures or findings writes at once.
	MetricsInterval time.Duration

	lastMetrics time.Time
}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// batch is one invocation's state.
type batch struct {
	parser                                                  notification.Parser
	touched                                                 map[string][]string // account → message ids that recorded arrivals
	logs                                                    map[string]int      // Region → delivered log files
	digests, findings, malformed, validation, notCloudTrail int
	// msgFindings counts the current message's findings: only the first
	// MaxFindingsPerMessage are logged and reported.
	msgFindings int
}

// MaxFindingsPerMessage bounds what one message can cost: its first
// findings are logged and reported (each an alert unless deduplicated), the
// rest only counted, in one summary line. One 256 KiB notification lists
// up to a thousand keys.
const MaxFindingsPerMessage = 10

// Handle processes one SQS batch and returns the partial batch response.
// It never returns an error and never panics.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	b := &batch{touched: map[string][]string{}, logs: map[string]int{}}
	res := sqsbatch.Run(ctx, ev, func(ctx context.Context, rec events.SQSMessage) error {
		return p.record(ctx, rec, b)
	}, sqsbatch.Options{Logger: p.Logger, Reserve: p.Reserve})

	// With a journal (the deployed verifier), every time processed is in
	// the journal when Flush returns and items wait for the item interval,
	// whatever the batch; without one, a batch that was not full (the queue
	// is drained and the instance may sit idle) writes everything.
	mode := ledger.FlushDue
	if !p.Ledger.Journaled() && (p.BatchSize <= 0 || len(ev.Records) < p.BatchSize) {
		mode = ledger.FlushAll
	}
	// The flush ends half the reserve before the invocation's deadline:
	// an invocation that times out is retried whole and may lose its
	// instance. Item writes cut short stay pending; a journal write cut
	// short fails its records, which SQS delivers again.
	flushCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		reserve := p.Reserve
		if reserve <= 0 {
			reserve = sqsbatch.DefaultReserve
		}
		var cancel context.CancelFunc
		flushCtx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve/2))
		defer cancel()
	}
	fr := p.Ledger.Flush(flushCtx, mode)
	resp := res.Response()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	accounts := slices.Sorted(maps.Keys(fr.Failed))
	for _, a := range slices.Sorted(maps.Keys(fr.ItemErrors)) {
		p.Logger.WarnContext(ctx, "ledger item write failed; its changes stay pending (times are in the journal)",
			"account", a, "code", fault.Code(fr.ItemErrors[a]), "error", fr.ItemErrors[a].Error())
	}
	for _, a := range accounts {
		p.Logger.ErrorContext(ctx, "ledger write failed; records that carried it are retried",
			"account", a, "code", fault.Code(fr.Failed[a]), "error", fr.Failed[a].Error())
		for _, id := range b.touched[a] {
			if !failed[id] {
				failed[id] = true
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
	}

	m := p.Metrics
	for region, n := range b.logs {
		m.Count(MetricDeliveredLogFiles, n, "Region", region)
	}
	m.Count(MetricDeliveredDigestFiles, b.digests)
	m.Count(MetricSecurityFindings, b.findings)
	m.Count(MetricMalformedNotifications, b.malformed)
	m.Count(MetricValidationMessages, b.validation)
	m.Count(MetricNotCloudTrailMessages, b.notCloudTrail)
	m.Count(MetricLedgerWrites, fr.Writes+fr.JournalWrites)
	m.Count(MetricLedgerWriteFailures, len(fr.Failed)+len(fr.ItemErrors))
	// EMF is CloudWatch Logs ingestion: one document set per interval per
	// warm instance instead of per invocation. A batch with failures or
	// findings flushes at once (alarms see them without delay), and so does
	// a batch that was not full (the instance may sit idle).
	if now := p.now(); p.MetricsInterval <= 0 || mode == ledger.FlushAll || len(resp.BatchItemFailures) > 0 || b.findings > 0 ||
		now.Sub(p.lastMetrics) >= p.MetricsInterval || now.Before(p.lastMetrics) {
		p.lastMetrics = now
		if err := m.Flush(ctx); err != nil {
			p.Logger.WarnContext(ctx, "metrics not written", "error", err.Error())
		}
	}
	return resp
}

// Shutdown writes everything the ledger writer holds: the end of a warm
// instance (SIGTERM), or of a one-shot run. It logs what could not be
// written.
func (p *Processor) Shutdown(ctx context.Context) ledger.FlushResult {
	fr := p.Ledger.Flush(ctx, ledger.FlushAll)
	for _, m := range []map[string]error{fr.Failed, fr.ItemErrors} {
		for _, a := range slices.Sorted(maps.Keys(m)) {
			p.Logger.ErrorContext(ctx, "ledger write failed at shutdown", "account", a, "code", fault.Code(m[a]), "error", m[a].Error())
		}
	}
	p.Metrics.Count(MetricLedgerWrites, fr.Writes+fr.JournalWrites)
	p.Metrics.Count(MetricLedgerWriteFailures, len(fr.Failed)+len(fr.ItemErrors))
	if err := p.Metrics.Flush(ctx); err != nil {
		p.Logger.WarnContext(ctx, "metrics not written", "error", err.Error())
	}
	return fr
}

// record handles one SQS record.
func (p *Processor) record(ctx context.Context, rec events.SQSMessage, b *batch) error {
	log := p.Logger.With("messageId", rec.MessageId)
	b.msgFindings = 0
	defer func() {
		if n := b.msgFindings - MaxFindingsPerMessage; n > 0 {
			log.WarnContext(ctx, "further security findings in this message, counted but not logged or alerted", "count", n)
		}
	}()
	m, err := b.parser.Parse(rec.Body)
	if err == nil {
		err = p.Rules.CheckMessage(&m)
	}
	switch m.Outcome {
	case notification.OutcomeMalformed:
		b.malformed++
		log.WarnContext(ctx, "malformed notification: left for the DLQ", "reason", m.Reason, "source", m.Source.String(),
			"receiveCount", sqsbatch.ReceiveCount(rec), "bodyBytes", len(rec.Body))
		return err
	case notification.OutcomeValidation:
		b.validation++
		log.InfoContext(ctx, "CloudTrail validation message", "topicArn", m.TopicArn)
		return nil
	case notification.OutcomeNotCloudTrail:
		b.notCloudTrail++
		log.InfoContext(ctx, "not a CloudTrail notification; deleted", "reason", m.Reason, "source", m.Source.String(), "topicArn", m.TopicArn)
		return nil
	}
	now := p.now()
	if m.Truncated {
		fd := Finding{Code: CodeTooManyKeys, Reason: m.Reason, Bucket: m.Bucket, MessageID: rec.MessageId}
		if k, err := logkey.Parse(m.Keys[0]); err == nil {
			fd.Account, fd.Region = k.Account, k.Region
		}
		if err := p.finding(ctx, log, fd, b); err != nil {
			return err
		}
	}
	for _, key := range m.Keys {
		o, err := p.Rules.Judge(ctx, m.Bucket, key, now, p.Members)
		if err != nil {
			return err
		}
		if err := p.judge(ctx, &o); err != nil {
			return err
		}
		acct, region := o.Account(), ""
		if o.Parsed {
			region = o.Key.Region
		}
		switch o.Verdict {
		case Rejected:
			if err := p.finding(ctx, log, Finding{Account: acct, Region: region, Code: o.Code, Reason: o.Reason,
				Bucket: m.Bucket, Key: key, MessageID: rec.MessageId}, b); err != nil {
				return err
			}
			continue
		case Ignored:
			log.DebugContext(ctx, "ignored object", "account", acct, "reason", o.Reason, "key", key)
			continue
		}
		var a ledger.Arrival
		switch o.Key.Kind {
		case logkey.KindLog:
			b.logs[region]++
			a = ledger.Arrival{Account: acct, Region: region, Kind: ledger.ArrivalLog, Time: o.Key.Time, Key: key}
		case logkey.KindDigest:
			b.digests++
			a = ledger.Arrival{Account: acct, Region: region, Kind: ledger.ArrivalDigest, Time: o.Key.Time, Key: key}
		default: // Insights: a genuine delivery with no ledger attribute
			log.DebugContext(ctx, "insights file", "account", acct, "region", region)
			continue
		}
		if p.Ledger.Record(a) != ledger.RecordIgnored {
			ids := b.touched[acct]
			if len(ids) == 0 || ids[len(ids)-1] != rec.MessageId {
				b.touched[acct] = append(ids, rec.MessageId)
			}
		}
	}
	return nil
}

// judge adds the object check to an accepted object (membership is
// judged by Rules.Judge).
func (p *Processor) judge(ctx context.Context, o *Object) error {
	if o.Verdict != Accepted {
		return nil
	}
	check := p.ObjectCheck == CheckAll || (p.ObjectCheck == CheckSample && sampled(o.RawKey, p.SampleRate))
	if !check || p.S3 == nil {
		return nil
	}
	kmsKey := p.KMSKeyARN
	if o.Key.Kind != logkey.KindLog && o.Key.Kind != logkey.KindInsight {
		// SSE-KMS applies to log files; AWS's guide to encrypting CloudTrail
		// files with KMS keys says digest files are encrypted with SSE-S3.
		// A digest is checked for existence and size only, so that it is
		// accepted under either encryption.
		kmsKey = ""
	}
	code, reason, err := headCheck(ctx, p.S3, o.Bucket, o.RawKey, kmsKey)
	if err != nil {
		return err
	}
	if code != "" {
		o.reject(code, "%s", reason)
	}
	return nil
}

// finding logs, counts and reports one finding.
func (p *Processor) finding(ctx context.Context, log *slog.Logger, fd Finding, b *batch) error {
	b.findings++
	b.msgFindings++
	if b.msgFindings > MaxFindingsPerMessage {
		return nil
	}
	log.WarnContext(ctx, "security finding", "account", fd.Account, "region", fd.Region, "code", string(fd.Code),
		"reason", fd.Reason, "bucket", fd.Bucket, "key", fd.Key)
	published, err := p.Findings.Report(ctx, fd)
	if err != nil {
		b.findings-- // counted again when the record is retried
		b.msgFindings--
		return fault.New(fault.Retryable, "FindingNotPublished", fmt.Errorf("report finding: %w", err))
	}
	if published {
		log.InfoContext(ctx, "finding alert published", "account", fd.Account, "code", string(fd.Code),
			"incidentId", FindingID(fd))
	}
	return nil
}
