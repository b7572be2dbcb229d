package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable renders the view for a person.
func WriteTable(w io.Writer, v View) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tOU\tTRAIL\tSTATUS\tLOGGING\tREGIONS: VERDICT, LAST DELIVERY (WORST FIRST)\tATTENTION")
	for _, r := range v.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Account, dash(r.Name), dash(r.OU), dash(r.Trail), r.Status,
			loggingCell(r, v.At), deliverySummary(r.Regions, v.At), dash(clip(strings.Join(r.Reasons, ", "), 60)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeItems(w, "Open security findings", v.Findings, v.At)
	writeItems(w, "Open incidents", v.Incidents, v.At)
	fmt.Fprintf(w, "\nCoverage: %s\n", coverageLine(v.Coverage))
	for _, e := range v.Coverage.Excluded {
		fmt.Fprintf(w, "  excluded %s: %s\n", e.Account, e.Why)
	}
	if n := len(v.Coverage.Unknown); n > 0 {
		fmt.Fprintf(w, "  ACTIVE in Organizations, unknown to trailwarden: %s\n", clip(strings.Join(v.Coverage.Unknown, ", "), 200))
	}
	verdict := "healthy"
	if !v.Summary.Healthy {
		verdict = "NEEDS ATTENTION"
		if len(v.Summary.Reasons) > 0 {
			verdict += ": " + strings.Join(v.Summary.Reasons, "; ")
		}
	}
	_, err := fmt.Fprintf(w, "\n%d account(s) (%d need attention), %d open finding(s), %d open incident(s) at %s: %s\n",
		v.Summary.Accounts, v.Summary.NeedsAttention, v.Summary.OpenFindings, v.Summary.OpenIncidents, v.At.Format(time.RFC3339), verdict)
	return err
}

func writeItems(w io.Writer, title string, items []Item, now time.Time) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (%d):\n", title, len(items))
	for _, it := range items {
		since := ""
		if !it.Since.IsZero() {
			since = " since " + Age(now.Sub(it.Since))
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n", it.ID, dash(it.Region), since, dash(clip(it.Summary, 120)))
	}
}

func coverageLine(c Coverage) string {
	org := "Organizations not read (--organization compares)"
	if c.Organization != nil {
		org = fmt.Sprintf("%d ACTIVE in Organizations", *c.Organization)
	}
	return fmt.Sprintf("%s, %d known, %d enabled, %d excluded, %d pending, %d failed",
		org, c.Known, c.Enabled, len(c.Excluded), c.Pending, c.Failed)
}

func loggingCell(r Row, now time.Time) string {
	if r.LoggingAt.IsZero() {
		return r.Logging
	}
	if r.LoggingSource == "live" {
		return r.Logging + " (live)"
	}
	return fmt.Sprintf("%s (%s)", r.Logging, Age(now.Sub(r.LoggingAt)))
}

// Age is a duration as a person reads it: "45s ago", "30m ago", "5h ago",
// "3d ago" ("in the future" for a negative one).
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// WriteJSON renders the view for scripts.
func WriteJSON(w io.Writer, v View) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func deliverySummary(rs []RegionDelivery, now time.Time) string {
	if len(rs) == 0 {
		return "never"
	}
	var parts []string
	for i, r := range rs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-3))
			break
		}
		parts = append(parts, regionCell(r, now))
	}
	return strings.Join(parts, ", ")
}

// regionCell is one Region's verdict and newest delivery:
// "eu-west-1 ok 50m ago", "us-east-1 ATTENTION never (stale)".
func regionCell(r RegionDelivery, now time.Time) string {
	verdict, last := "ok", "never"
	if r.Verdict != RegionHealthy {
		verdict = "ATTENTION"
	}
	if !r.Last.IsZero() {
		last = Age(now.Sub(r.Last))
	}
	s := r.Region + " " + verdict + " " + last
	if len(r.Reasons) > 0 {
		s += " (" + strings.Join(r.Reasons, ", ") + ")"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
