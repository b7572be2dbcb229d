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
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
	"github.com/trailwarden/trailwarden/shared/telemetry"
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
	// Reserve is kept free before the deadline (sqsbatch default when 0).
	Reserve time.Duration
	// Integrity verifies each accepted digest once (nil: not verified).
	Integrity DigestWatcher
	// HeadConcurrency bounds a batch's object checks in flight
	// (DefaultHeadConcurrency when 0).
	HeadConcurrency int
	// MetricsInterval: metrics are summed in the warm instance and written
	// at most once per interval (0: every invocation). A batch with
	// failures or findings writes at once.
	MetricsInterval time.Duration

	lastMetrics time.Time
	tally       tally
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
	// heads holds the batch's prefetched object checks by key.
	heads map[string]headResult
	// forbidden counts object checks S3 refused (403): a configuration
	// error, reported once per batch.
	forbidden      int
	firstForbidden error
	// msgFindings counts the current message's findings: only the first
	// MaxFindingsPerMessage are logged and reported.
	msgFindings int
	// etag is the current message's object ETag (S3 events).
	etag string
}

// MaxFindingsPerMessage bounds what one message can cost: its first
// findings are logged and reported (each an alert unless deduplicated), the
// rest only counted, in one summary line. One 256 KiB notification lists
// up to a thousand keys.
const MaxFindingsPerMessage = 10

// Handle processes one SQS batch and returns the partial batch response.
// It never returns an error and never panics.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	b := &batch{touched: map[string][]string{}, logs: map[string]int{}, heads: p.prefetchHeads(ctx, ev, p.now())}
	res := sqsbatch.Run(ctx, ev, func(ctx context.Context, rec events.SQSMessage) error {
		return p.record(ctx, rec, b)
	}, sqsbatch.Options{Logger: p.Logger, Reserve: p.Reserve})

	// Every arrival processed is in the journal when Flush returns (the
	// account items are the watchdog's). The flush ends half the reserve
	// before the invocation's deadline: an invocation that times out is
	// retried whole and may lose its instance; a journal write cut short
	// fails its records, which SQS delivers again.
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
	fr := p.Ledger.Flush(flushCtx)
	resp := res.Response()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, a := range slices.Sorted(maps.Keys(fr.Failed)) {
		p.Logger.ErrorContext(ctx, "ledger write failed; records that carried it are retried",
			"account", a, "code", fault.Code(fr.Failed[a]), "error", fr.Failed[a].Error())
		for _, id := range b.touched[a] {
			if !failed[id] {
				failed[id] = true
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
	}

	if b.forbidden > 0 {
		p.Logger.ErrorContext(ctx, "configuration error: S3 refused the object check (403 on HeadObject); the objects were recorded unchecked",
			"code", CodeObjectCheckForbidden, "objects", b.forbidden, "error", b.firstForbidden.Error())
	}
	p.tally.batch(b, fr)
	p.Metrics.Count(MetricSecurityFindings, b.findings)
	// EMF is CloudWatch Logs ingestion: one document set per interval per
	// warm instance instead of per invocation. A batch with failures or
	// findings flushes at once (alarms see them without delay).
	if now := p.now(); p.MetricsInterval <= 0 || len(resp.BatchItemFailures) > 0 || b.findings > 0 ||
		now.Sub(p.lastMetrics) >= p.MetricsInterval || now.Before(p.lastMetrics) {
		p.lastMetrics = now
		p.flushMetrics(ctx)
	}
	return resp
}

// Shutdown ends a warm instance (SIGTERM) or a one-shot run: every
// arrival is already in the journal, so it writes only what the metrics
// hold. It returns what the ledger flush did (nothing, normally).
func (p *Processor) Shutdown(ctx context.Context) ledger.FlushResult {
	fr := p.Ledger.Flush(ctx)
	for _, a := range slices.Sorted(maps.Keys(fr.Failed)) {
		p.Logger.ErrorContext(ctx, "ledger write failed at shutdown", "account", a, "code", fault.Code(fr.Failed[a]), "error", fr.Failed[a].Error())
	}
	p.tally.batch(&batch{}, fr)
	p.flushMetrics(ctx)
	return fr
}

// record handles one SQS record. Log lines name the record's message id;
// nothing is allocated for logging on the accepted path.
func (p *Processor) record(ctx context.Context, rec events.SQSMessage, b *batch) error {
	b.msgFindings = 0
	m, err := b.parser.Parse(rec.Body)
	if err == nil {
		err = p.Rules.CheckMessage(&m)
	}
	switch m.Outcome {
	case notification.OutcomeMalformed:
		b.malformed++
		p.Logger.WarnContext(ctx, "malformed notification: left for the DLQ", "messageId", rec.MessageId, "reason", m.Reason,
			"source", m.Source.String(), "receiveCount", sqsbatch.ReceiveCount(rec), "bodyBytes", len(rec.Body))
		return err
	case notification.OutcomeValidation:
		b.validation++
		p.Logger.InfoContext(ctx, "CloudTrail validation message", "messageId", rec.MessageId, "topicArn", m.TopicArn)
		return nil
	case notification.OutcomeNotCloudTrail:
		if m.Source == notification.SourceS3EventBridge {
			return p.objectEvent(ctx, rec, &m, b)
		}
		b.notCloudTrail++
		p.Logger.InfoContext(ctx, "not a CloudTrail notification; deleted", "messageId", rec.MessageId, "reason", m.Reason,
			"source", m.Source.String(), "topicArn", m.TopicArn)
		return nil
	}
	now := p.now()
	if m.Truncated {
		fd := Finding{Code: CodeTooManyKeys, Reason: m.Reason, Bucket: m.Bucket, MessageID: rec.MessageId}
		if k, err := logkey.Parse(m.Keys[0]); err == nil {
			fd.Account, fd.Region = k.Account, k.Region
		}
		if err := p.finding(ctx, p.Logger.With("messageId", rec.MessageId), fd, b); err != nil {
			return err
		}
	}
	b.etag = m.ETag // an S3 event's; "" for SNS
	for _, key := range m.Keys {
		if err := p.object(ctx, rec.MessageId, m.Bucket, key, now, b); err != nil {
			return err
		}
	}
	if n := b.msgFindings - MaxFindingsPerMessage; n > 0 {
		p.Logger.WarnContext(ctx, "further security findings in this message, counted but not logged or alerted",
			"messageId", rec.MessageId, "count", n)
	}
	return nil
}

// object judges one announced object and records an accepted arrival.
func (p *Processor) object(ctx context.Context, messageID, bucket, key string, now time.Time, b *batch) error {
	o, err := p.Rules.Judge(ctx, bucket, key, now, p.Members)
	if err != nil {
		return err
	}
	if err := p.judge(ctx, &o, b); err != nil {
		return err
	}
	acct, region := o.Account(), ""
	if o.Parsed {
		region = o.Key.Region
	}
	debug := p.Logger.Enabled(ctx, slog.LevelDebug)
	switch o.Verdict {
	case Rejected:
		// Findings are rare: the message id joins the logger only here.
		return p.finding(ctx, p.Logger.With("messageId", messageID), Finding{Account: acct, Region: region, Code: o.Code,
			Reason: o.Reason, Bucket: bucket, Key: key, MessageID: messageID}, b)
	case Ignored:
		if debug {
			p.Logger.DebugContext(ctx, "ignored object", "messageId", messageID, "account", acct, "reason", o.Reason, "key", key)
		}
		return nil
	}
	a := ledger.Arrival{Account: acct, Region: region, Time: o.Key.Time, Key: key}
	switch o.Key.Kind {
	case logkey.KindLog:
		b.logs[region]++
		a.Kind = ledger.ArrivalLog
	case logkey.KindDigest:
		b.digests++
		a.Kind = ledger.ArrivalDigest
		if err := p.integrity(ctx, messageID, bucket, key, b.etag, b); err != nil {
			return err
		}
	default: // Insights: a genuine delivery with no ledger attribute
		if debug {
			p.Logger.DebugContext(ctx, "insights file", "messageId", messageID, "account", acct, "region", region)
		}
		return nil
	}
	if p.Ledger.Record(a) != ledger.RecordIgnored {
		ids := b.touched[acct]
		if len(ids) == 0 || ids[len(ids)-1] != messageID {
			b.touched[acct] = append(ids, messageID)
		}
	}
	return nil
}

// judge adds the object check to an accepted object (membership is judged
// by Rules.Judge). A check S3 refused (403) leaves the object accepted,
// unchecked, and is counted for the batch's configuration error.
func (p *Processor) judge(ctx context.Context, o *Object, b *batch) error {
	if o.Verdict != Accepted {
		return nil
	}
	if !p.wantsHead(o) {
		return nil
	}
	r, ok := b.heads[o.RawKey]
	if !ok {
		r.code, r.reason, r.err = headCheck(ctx, p.S3, o.Bucket, o.RawKey, p.kmsKeyFor(o.Key.Kind))
	}
	if fault.Code(r.err) == CodeObjectCheckForbidden {
		if b.forbidden++; b.firstForbidden == nil {
			b.firstForbidden = r.err
		}
		return nil
	}
	if r.err != nil {
		return r.err
	}
	if r.code != "" {
		o.reject(r.code, "%s", r.reason)
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

// DigestWatcher verifies one digest (integritywatch.Watcher); etag is the
// announcing S3 event's ("" for other notifications).
type DigestWatcher interface {
	Digest(ctx context.Context, bucket, key, etag string) ([]integritywatch.Finding, error)
}

var _ DigestWatcher = (*integritywatch.Watcher)(nil)

// integrity verifies an accepted digest and reports its findings. An error
// is transient: the record is retried, and the digest read again.
func (p *Processor) integrity(ctx context.Context, messageID, bucket, key, etag string, b *batch) error {
	if p.Integrity == nil {
		return nil
	}
	fs, err := p.Integrity.Digest(ctx, bucket, key, etag)
	if err != nil {
		return fault.New(fault.Retryable, "DigestNotVerified", fmt.Errorf("verify digest %s: %w", key, err))
	}
	for _, f := range fs {
		fd := Finding{Account: f.Account, Region: f.Region, Code: Code(f.Code), Reason: f.Reason, Bucket: f.Bucket, Key: f.Key, MessageID: messageID}
		if err := p.finding(ctx, p.Logger.With("messageId", messageID), fd, b); err != nil {
			return err
		}
	}
	return nil
}
