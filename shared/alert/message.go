package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// SchemaVersion is the version of Document, the JSON that SQS, Lambda,
// HTTP(S) and e-mail-json subscribers and the bus receive (docs/alerts.md).
// Adding a field keeps the version; removing or renaming one, or changing
// its meaning, takes a new one. Version 2 added transition, version,
// openedAt, change, regions, trailArn, code, cause, event, bucket and
// objectKey: an incident's alert covers all its Regions (regions), where
// version 1 had one alert per Region (region).
const SchemaVersion = "2"

// Document is an alert as JSON subscribers read it.
type Document struct {
	SchemaVersion string `json:"schemaVersion"`
	Alert
}

// JSON encodes a as its Document, without HTML escaping (a "<" stays "<")
// and without e-mail addresses.
func JSON(a Alert) ([]byte, error) {
	return encode(Document{SchemaVersion: SchemaVersion, Alert: withoutEmail(a)})
}

// withoutEmail withholds e-mail addresses from the event's principal.
func withoutEmail(a Alert) Alert {
	if a.Event != nil {
		e := *a.Event
		e.Actor = NoEmail(e.Actor)
		a.Event = &e
	}
	return a
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Protocols that receive the JSON Document; "email" gets the plain text
// (Email) and "sms" the subject line. "default" is what any other
// subscription receives. Amazon SNS API Reference, Publish,
// MessageStructure: with "json", Message must be a JSON object with a
// top-level "default" string; other top-level keys name the transport
// protocols, each a string.
var jsonProtocols = []string{"default", "email-json", "sqs", "lambda", "http", "https", "firehose"}

// Message is the Publish Message of a with MessageStructure "json": one
// body per protocol.
func Message(a Alert, runbookBase string) (string, error) {
	doc, err := JSON(a)
	if err != nil {
		return "", fmt.Errorf("encode alert: %w", err)
	}
	m := map[string]string{"email": Email(a, runbookBase), "sms": Subject(a)}
	for _, p := range jsonProtocols {
		m[p] = string(doc)
	}
	b, err := encode(m)
	if err != nil {
		return "", fmt.Errorf("encode alert message: %w", err)
	}
	return string(b), nil
}

// MaxSubject is the longest Subject SNS takes: "less than 100 characters"
// of text without line breaks or control characters (Amazon SNS API
// Reference, Publish, Subject); kept to printable ASCII, as e-mail
// subject lines are.
const MaxSubject = 99

// Subject is a's e-mail subject line: severity, what, the account and the
// Regions, within MaxSubject printable ASCII characters.
func Subject(a Alert) string {
	var b strings.Builder
	switch a.Transition {
	case TransitionResolved:
		b.WriteString("[RESOLVED] ")
	case TransitionUpdated:
		fmt.Fprintf(&b, "[%s] UPDATE: ", strings.ToUpper(orDefault(a.Severity, "info")))
	default:
		fmt.Fprintf(&b, "[%s] ", strings.ToUpper(orDefault(a.Severity, "info")))
	}
	b.WriteString(headline(a))
	if a.Account != "" {
		b.WriteString(" in " + a.Account)
		if a.AccountName != "" {
			b.WriteString(" (" + a.AccountName + ")")
		}
	}
	if rs := a.AllRegions(); len(rs) > 0 {
		b.WriteString(": " + strings.Join(rs, ", "))
	}
	return asciiLine(b.String(), MaxSubject)
}

// headline names what happened in a few words.
func headline(a Alert) string {
	if a.Kind == KindAlarm && a.Alarm != nil {
		return "CloudWatch alarm " + a.Alarm.Name
	}
	if h, ok := causeHeadlines[a.Cause]; ok {
		return h
	}
	if h, ok := kindHeadlines[a.Kind]; ok {
		return h
	}
	return "trailwarden " + a.Kind
}

var causeHeadlines = map[string]string{
	"stopped": "CloudTrail logging stopped", "deleted": "CloudTrail trail deleted",
	"changed": "CloudTrail trail changed", "tampered": "CloudTrail trail tampered with",
	"delivery-error": "CloudTrail cannot deliver", "never-started": "CloudTrail never delivered",
	"deliveries-missing": "CloudTrail deliveries missing", "role-not-assumable": "trailwarden cannot reach the account",
	"pipeline-silent": "CloudTrail deliveries silent across the organization",
}

var kindHeadlines = map[string]string{
	KindDeliveryStopped: "CloudTrail deliveries stopped", KindNeverStarted: "CloudTrail never delivered",
	KindRecovered: "CloudTrail deliveries resumed", KindEnableOverdue: "CloudTrail not enabled yet",
	KindEnableFailed: "CloudTrail enable failed", KindSecurityFinding: "CloudTrail delivery finding",
	KindTampered: "CloudTrail trail tampered with", KindRepaired: "CloudTrail trail repaired",
}

// asciiLine keeps printable ASCII (others become "?"), one line, at most
// max characters ("..." marks a cut).
func asciiLine(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r == '×':
			b.WriteByte('x')
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) > max {
		out = strings.TrimRight(out[:max-3], " ") + "..."
	}
	return out
}

// Email is a's plain-text e-mail body: what happened, since when, where,
// the diagnosis, what trailwarden did, what to do, and the links.
func Email(a Alert, runbookBase string) string {
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-22s %s\n", label+":", v)
		}
	}
	b.WriteString(Subject(a) + "\n\n")
	line("What changed", a.Change)
	line("What happened", a.Reason)
	if !a.Since.IsZero() {
		line("Since", a.Since.UTC().Format(time.RFC3339)+sinceText(a))
	}
	acct := a.Account
	if acct != "" && a.AccountName != "" {
		acct += " (" + a.AccountName + ")"
	}
	if acct != "" && a.OU != "" {
		acct += ", OU " + a.OU
	}
	line("Account", acct)
	line("Regions", strings.Join(a.AllRegions(), ", "))
	line("Trail", a.TrailARN)
	if a.Bucket != "" {
		line("Object", "s3://"+a.Bucket+"/"+a.ObjectKey)
	}
	line("Diagnosis", diagnosis(a))
	if e := a.Event; e != nil {
		line("Call", strings.TrimSpace(e.Name+" "+timeText(e.Time)))
		line("By", NoEmail(e.Actor))
		line("Invoked by", e.InvokedBy)
		line("Source IP", e.SourceIP)
		line("Event id", e.ID)
	}
	alarmLines(a, line)
	line("What trailwarden did", a.Repair)
	line("What to do next", a.Action)
	b.WriteString("\n")
	line("Runbook", RunbookURL(runbookBase, a))
	line("Console", ConsoleURL(a))
	line("CLI", CLICommand(a))
	b.WriteString("\n")
	id := a.IncidentID
	if a.Version > 0 {
		id += fmt.Sprintf(" version %d", a.Version)
	}
	if a.Transition != "" {
		id += " (" + a.Transition + ")"
	}
	line("Incident", strings.TrimSpace(id))
	line("Sent", timeText(a.At))
	return b.String()
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func sinceText(a Alert) string {
	if a.At.IsZero() || a.At.Before(a.Since) {
		return ""
	}
	return " (" + a.At.Sub(a.Since).Round(time.Minute).String() + " before this message)"
}

func diagnosis(a Alert) string {
	d := a.Code
	if a.Detail != "" {
		if d != "" {
			d += ": "
		}
		d += a.Detail
	}
	return d
}

// RunbookURL is the runbook page of a's kind (a verifier finding's code
// has its own page) under base, the deployment's copy of docs/runbooks/.
func RunbookURL(base string, a Alert) string {
	page := a.Kind + ".md"
	switch {
	case a.Kind == KindSecurityFinding && a.Code != "":
		page = "finding-" + a.Code + ".md"
	case a.Kind == KindAlarm && a.Code != "":
		page = "alarm-" + a.Code + ".md"
	}
	if base == "" {
		return "docs/runbooks/" + page + " in trailwarden's repository"
	}
	return strings.TrimRight(base, "/") + "/" + page
}

// ConsoleURL opens the trail (or, without its ARN, the trails list) in the
// CloudTrail console of its home Region, on the partition's console host:
// https://<region>.console.aws.amazon.com in the aws partition (AWS
// General Reference, "AWS Management Console endpoints"),
// console.amazonaws-us-gov.com and console.amazonaws.cn in the GovCloud
// and China partitions; an alarm alert opens its alarm in the CloudWatch
// console. "" when the Region or partition has no console.
func ConsoleURL(a Alert) string {
	if a.Kind == KindAlarm {
		return alarmConsoleURL(a)
	}
	region, arn := "", a.TrailARN
	if p := strings.Split(arn, ":"); len(p) == 6 && p[0] == "arn" && p[2] == "cloudtrail" {
		region = p[3]
	} else {
		arn = ""
		if rs := a.AllRegions(); len(rs) > 0 {
			region = rs[0]
		}
	}
	host := consoleHost(region)
	if host == "" {
		return ""
	}
	u := "https://" + host + "/cloudtrailv2/home?region=" + url.QueryEscape(region) + "#/trails"
	if arn != "" {
		u += "/" + arn
	}
	return u
}

// consoleHost is the console host of region's partition, "" when the
// Region or partition has none.
func consoleHost(region string) string {
	if !awsid.IsRegion(region) {
		return ""
	}
	switch awsid.Partition(region) {
	case "aws":
		return region + ".console.aws.amazon.com"
	case "aws-us-gov":
		return "console.amazonaws-us-gov.com"
	case "aws-cn":
		return "console.amazonaws.cn"
	}
	return ""
}

// CLICommand is the operator command to run first: enable an account that
// failed or is overdue, else look at its status.
func CLICommand(a Alert) string {
	switch {
	case a.Kind == KindAlarm && a.Alarm != nil:
		return "aws cloudwatch describe-alarm-history --alarm-name " + a.Alarm.Name + " --region " + a.Region + " --max-items 5"
	case a.Account == "":
		return "trailwarden status"
	case a.Kind == KindEnableFailed || a.Kind == KindEnableOverdue:
		return "trailwarden enable --account " + a.Account + " --yes"
	}
	return "trailwarden status --account " + a.Account
}

var emailLike = regexp.MustCompile(`[^\s/:@]+@[^\s/:@]+`)

// NoEmail withholds e-mail addresses (an IAM Identity Center session name
// is often one): alerts name principals, never people's addresses.
func NoEmail(s string) string {
	return emailLike.ReplaceAllString(s, "(e-mail address withheld)")
}
