package alarmrelay

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: any body gives a notification or a malformed error, never a
// panic; whatever parses maps to an alert or to nothing.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"sns-alarm.json", "sns-ok.json", "sns-ok-after-insufficient-data.json"} {
		f.Add(sample(f, n))
	}
	f.Add(`{"Type":"Notification","TopicArn":"` + testTopic + `","Message":"{}"}`)
	f.Add(`{"Type":"Notification","TopicArn":"` + testTopic + `","Message":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		n, rule, err := Parse(body, testSource)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if a, ok := ToAlert(n, rule, time.Unix(0, 0)); ok && (a.Severity == "" || a.Account != testAccount) {
			t.Fatalf("alert %+v", a)
		}
	})
}
