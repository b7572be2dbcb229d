// Package telemetry sets up structured logging (log/slog, JSON) and writes
// metrics in CloudWatch Embedded Metric Format (EMF): one JSON log line per
// flush, which CloudWatch Logs turns into metrics with no API call.
//
// Account ids and Regions are properties (searchable in Logs Insights), never
// metric dimensions: dimensions stay low-cardinality (Service, and Region for
// delivery counts).
package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLambdaLogger is a function's logger in Lambda: the handler of
// aws-lambda-go's lambdacontext writes JSON or text as AWS_LAMBDA_LOG_FORMAT
// says, drops records below AWS_LAMBDA_LOG_LEVEL (both set by Lambda from
// the function's logging configuration), and adds the invocation's
// requestId to every record logged with that invocation's context (the
// *Context methods). Built once per cold start; the request id comes from
// each call's context ("Log-level filtering", AWS Lambda Developer Guide).
func NewLambdaLogger(function string) *slog.Logger {
	return slog.New(lambdacontext.NewLogHandler()).With("function", function)
}

// NewLogger returns a JSON slog logger writing to w at the given level name
// (debug|info|warn|error; default info), for the CLI, tests and the demo.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}))
}

// Unit is a CloudWatch metric unit.
type Unit string

const (
	Count   Unit = "Count"
	Seconds Unit = "Seconds"
	None    Unit = "None"
)

type metricKey struct {
	name string
	dims string // canonical "k=v,k=v"
}

type metricVal struct {
	unit  Unit
	value float64
	dims  map[string]string
}

// Metrics collects values during an invocation and writes them as EMF on
// Flush. Values of the same name and dimensions are summed. Safe for
// concurrent use.
type Metrics struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	service   string
	now       func() time.Time
	values    map[metricKey]*metricVal
	props     map[string]any
}

// NewMetrics writes EMF documents to w under namespace, with dimension
// Service=service on every metric.
func NewMetrics(w io.Writer, namespace, service string) *Metrics {
	if w == nil {
		w = os.Stdout
	}
	return &Metrics{w: w, namespace: namespace, service: service, now: time.Now,
		values: map[metricKey]*metricVal{}, props: map[string]any{}}
}

// SetClock replaces the clock (tests).
func (m *Metrics) SetClock(now func() time.Time) { m.now = now }

// Add adds v to the metric name with optional extra dimensions (pairs k, v).
func (m *Metrics) Add(name string, unit Unit, v float64, dims ...string) {
	d := map[string]string{"Service": m.service}
	for i := 0; i+1 < len(dims); i += 2 {
		d[dims[i]] = dims[i+1]
	}
	key := metricKey{name: name, dims: canonical(d)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.values[key]; ok {
		cur.value += v
		return
	}
	m.values[key] = &metricVal{unit: unit, value: v, dims: d}
}

// Count adds n to a Count metric.
func (m *Metrics) Count(name string, n int, dims ...string) {
	m.Add(name, Count, float64(n), dims...)
}

// Property attaches a searchable property (e.g. requestId) to the next flush.
func (m *Metrics) Property(k string, v any) {
	m.mu.Lock()
	m.props[k] = v
	m.mu.Unlock()
}

// Snapshot returns the summed value per "name|k=v,…" key (tests, CLI).
func (m *Metrics) Snapshot() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]float64{}
	for k, v := range m.values {
		out[k.name+"|"+k.dims] = v.value
	}
	return out
}

// Total returns the sum of a metric over all its dimension sets.
func (m *Metrics) Total(name string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := 0.0
	for k, v := range m.values {
		if k.name == name {
			t += v.value
		}
	}
	return t
}

// Flush writes one EMF document per dimension set and clears the values.
func (m *Metrics) Flush(ctx context.Context) error {
	m.mu.Lock()
	groups := map[string][]metricKey{}
	for k := range m.values {
		groups[k.dims] = append(groups[k.dims], k)
	}
	vals := m.values
	props := m.props
	m.values = map[metricKey]*metricVal{}
	m.props = map[string]any{}
	m.mu.Unlock()

	dimSets := make([]string, 0, len(groups))
	for d := range groups {
		dimSets = append(dimSets, d)
	}
	sort.Strings(dimSets)
	for _, ds := range dimSets {
		keys := groups[ds]
		sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
		doc := map[string]any{}
		for k, v := range props {
			doc[k] = v
		}
		dims := vals[keys[0]].dims
		dimNames := make([]string, 0, len(dims))
		for k, v := range dims {
			dimNames = append(dimNames, k)
			doc[k] = v
		}
		sort.Strings(dimNames)
		defs := make([]map[string]string, 0, len(keys))
		for _, k := range keys {
			v := vals[k]
			doc[k.name] = v.value
			defs = append(defs, map[string]string{"Name": k.name, "Unit": string(v.unit)})
		}
		doc["_aws"] = map[string]any{
			"Timestamp": m.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  m.namespace,
				"Dimensions": [][]string{dimNames},
				"Metrics":    defs,
			}},
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if _, err := m.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func canonical(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(d[k])
	}
	return b.String()
}
