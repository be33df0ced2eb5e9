package fal

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// statusJSONCases are status events and submit answers, well formed or
// not; decodeStatus and decodeJob must decode each as json.Unmarshal does.
var statusJSONCases = []string{
	`{"status":"IN_QUEUE","request_id":"r1","queue_position":3,"response_url":"https://queue.fal.run/a/b/requests/r1"}`,
	`{"status":"COMPLETED","metrics":{"inference_time":1.25},"logs":[{"message":"a \"b\"","level":"INFO","timestamp":"t"}],"error":null}`,
	`{"status":"COMPLETED","error":"caf\u00e9 \ud83d\ude00 \ud800 \udc00\u0041 x\/y\n\t\\","error_type":"runner_failed"}`,
	"{\"status\":\"not UTF-8: \xff\xfe\",\"request_id\":\"\xed\xa0\x80\"}",
	`{"STATUS":"a","Request_Id":"b","ſtatus":"c","queue_\u0050osition":7,"metriCS":{"INFERENCE_TIME":-0.5e-3}}`,
	`{"queue_position":1,"queue_position":null}`,
	`{"queue_position":null,"queue_position":-0,"status":null,"metrics":null}`,
	`{"metrics":{"inference_time":1},"metrics":{"other":2}}`,
	`{"x":{"y":[1,{"z":"}]\"{"}],"w":[]},"status":"s","n":-1.5E+10,"t":true,"f":false}`,
	" \r\n\t{ \"status\" : \"s\" ,\"request_id\":\"r\"\n}\t",
	`{}`,
	`null`,
	`{"request_id":"r","status_url":"https://queue.fal.run/a/requests/r/status","cancel_url":"c","Endpoint":"x","key":"k","-":"y"}`,
	`{"request_id":"\u0072\u0031","STATUS_URL":null}`,
	`{"queue_position":9223372036854775807}`,
	// Rejected by encoding/json, so decoded by it for its error.
	`{"status":5}`,
	`{"request_id":true}`,
	`{"status_url":{}}`,
	`{"queue_position":1.5}`,
	`{"queue_position":1e2}`,
	`{"queue_position":"1"}`,
	`{"queue_position":9223372036854775808}`,
	`{"metrics":[]}`,
	`{"metrics":"fast"}`,
	`{"metrics":{"inference_time":1e400}}`,
	`{"metrics":{"inference_time":"1"}}`,
	`[]`,
	`"status"`,
	`3`,
	`{"status":"a"`,
	`{"status":"a"} x`,
	`{"status":"a",}`,
	`{"a":tru}`,
	`{"a":01}`,
	"{\"status\":\"a\x01\"}",
	``,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `,"status":"deep"}`,
}

// checkLikeUnmarshal fails t unless the decoders take data exactly when
// json.Unmarshal does, with the same fields, and otherwise report its
// error.
func checkLikeUnmarshal(t *testing.T, data []byte) {
	t.Helper()
	var want, got Status
	wantErr := json.Unmarshal(data, &want)
	took := json.Valid(data) && decodeObject(data, got.setField)
	if took != (wantErr == nil) || took && !reflect.DeepEqual(got, want) {
		t.Fatalf("status %q: decoded %+v (%v); json.Unmarshal: %+v, %v", data, got, took, want, wantErr)
	}
	if err := decodeStatus(data, &got); !reflect.DeepEqual(got, want) || !sameError(err, wantErr) {
		t.Fatalf("status %q: decodeStatus gave %+v, %v; json.Unmarshal %+v, %v", data, got, err, want, wantErr)
	}
	var wantJob, gotJob Job
	wantErr = json.Unmarshal(data, &wantJob)
	took = json.Valid(data) && decodeObject(data, gotJob.setField)
	if took != (wantErr == nil) || took && !reflect.DeepEqual(gotJob, wantJob) {
		t.Fatalf("job %q: decoded %+v (%v); json.Unmarshal: %+v, %v", data, gotJob, took, wantJob, wantErr)
	}
	if err := decodeJob(data, &gotJob); !reflect.DeepEqual(gotJob, wantJob) || !sameError(err, wantErr) {
		t.Fatalf("job %q: decodeJob gave %+v, %v; json.Unmarshal %+v, %v", data, gotJob, err, wantJob, wantErr)
	}
}

func sameError(a, b error) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Error() == b.Error()
}

func TestDecodeStatusLikeUnmarshal(t *testing.T) {
	for _, c := range statusJSONCases {
		checkLikeUnmarshal(t, []byte(c))
	}
}

// TestDecodeStatusFields spells out what some of the cases decode to.
func TestDecodeStatusFields(t *testing.T) {
	var st Status
	if err := decodeStatus([]byte(statusJSONCases[4]), &st); err != nil {
		t.Fatal(err)
	}
	if st.Status != "c" || st.RequestID != "b" || st.QueuePosition == nil || *st.QueuePosition != 7 || st.Metrics.InferenceTime != -0.0005 {
		t.Errorf("folded keys decoded to %+v", st)
	}
	st = Status{}
	if err := decodeStatus([]byte(statusJSONCases[2]), &st); err != nil {
		t.Fatal(err)
	}
	if want := "café 😀 \uFFFD \uFFFDA x/y\n\t\\"; st.Error != want || st.ErrorType != "runner_failed" {
		t.Errorf("escapes decoded to %q, want %q", st.Error, want)
	}
	if err := decodeStatus([]byte(`{"status":5}`), &st); err == nil || !strings.Contains(err.Error(), "Status.status of type string") {
		t.Errorf("a number for the status gave %v", err)
	}
}

func FuzzDecodeStatus(f *testing.F) {
	for _, c := range statusJSONCases[:len(statusJSONCases)-2] {
		f.Add([]byte(c))
	}
	f.Fuzz(checkLikeUnmarshal)
}
