package integrity_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"crypto/x509"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

func TestParsePublicKeysTimeForms(t *testing.T) {
	der := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&signingKeys(t)[0].PublicKey))
	// The AWS CLI prints epoch seconds (its documented example) or ISO 8601.
	doc := fmt.Sprintf(`{"PublicKeyList":[
	  {"ValidityStartTime":1453076702.0,"ValidityEndTime":1455668702.0,"Value":%q,"Fingerprint":"a"},
	  {"ValidityStartTime":"2016-02-17T00:25:02+00:00","ValidityEndTime":"2016-03-18T00:25:02Z","Value":%q,"Fingerprint":"b"}]}`, der, der)
	keys, err := integrity.ParsePublicKeys([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !keys[0].Start.Equal(time.Unix(1453076702, 0)) || !keys[1].End.Equal(time.Date(2016, 3, 18, 0, 25, 2, 0, time.UTC)) {
		t.Fatalf("%+v", keys)
	}
	got, _ := integrity.StaticKeys(keys).PublicKeys(context.Background(), "us-east-1",
		time.Date(2016, 2, 20, 0, 0, 0, 0, time.UTC), time.Date(2016, 2, 21, 0, 0, 0, 0, time.UTC))
	if len(got) != 1 || got[0].Fingerprint != "b" {
		t.Fatalf("overlap: %+v", got)
	}
	for _, bad := range []string{`{}`, `{"PublicKeyList":[{"Value":"AAAA","Fingerprint":"x","ValidityStartTime":1,"ValidityEndTime":2}]}`,
		fmt.Sprintf(`{"PublicKeyList":[{"Value":%q,"Fingerprint":"x","ValidityStartTime":"soon","ValidityEndTime":2}]}`, der)} {
		if _, err := integrity.ParsePublicKeys([]byte(bad)); !errors.Is(err, integrity.ErrKeys) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
