package incident_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/incident"
)

// attrs reads {"Name": {"S": "..."} | {"N": "..."} | {"SS": [...]}} into
// DynamoDB attribute values, as the table could hold them.
func attrs(b []byte) map[string]ddbtypes.AttributeValue {
	var raw map[string]struct {
		S  *string
		N  *string
		SS []string
	}
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	av := map[string]ddbtypes.AttributeValue{}
	for k, v := range raw {
		switch {
		case v.S != nil:
			av[k] = &ddbtypes.AttributeValueMemberS{Value: *v.S}
		case v.N != nil:
			av[k] = &ddbtypes.AttributeValueMemberN{Value: *v.N}
		default:
			av[k] = &ddbtypes.AttributeValueMemberSS{Value: v.SS}
		}
	}
	return av
}

// FuzzDecode: any item decodes or is refused with an error, never a
// panic; what decodes encodes back to an item that decodes the same.
func FuzzDecode(f *testing.F) {
	c := incident.Incident{ID: incident.CauseID("111122223333", incident.CauseStopped), Kind: incident.KindCause,
		State: incident.StateOpen, Account: "111122223333", Cause: incident.CauseStopped, Regions: []string{"eu-west-1", "us-east-1"},
		OpenRegions: []string{"eu-west-1"}, Version: 2, AlertedVersion: 1, LastChangeAt: time.Unix(1767225600, 0).UTC()}
	seed, _ := json.Marshal(map[string]any{"IncidentId": map[string]string{"S": c.ID}, "Regions": map[string][]string{"SS": c.Regions},
		"Version": map[string]string{"N": "2"}, "State": map[string]string{"S": "open"}})
	f.Add(seed)
	f.Add([]byte(`{"IncidentId":{"S":"stale#1#eu-west-1"},"Since":{"N":"1.5e9"},"Regions":{"S":"x"}}`))
	f.Add([]byte(`{"IncidentId":{"N":"1"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		av := attrs(b)
		if av == nil {
			return
		}
		inc, err := incident.Decode(av)
		if err != nil {
			return
		}
		again, err := incident.Decode(incident.Encode(inc))
		if err != nil || !reflect.DeepEqual(again, inc) {
			t.Fatalf("round trip: %+v != %+v (%v)", again, inc, err)
		}
	})
}
