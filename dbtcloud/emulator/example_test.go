package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// A test starts an emulator on a fake clock, triggers a run over plain HTTP, and moves time along.
func Example() {
	clock := emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	call := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Token "+srv.Token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var env struct {
			Data map[string]any `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return env.Data
	}
	run := call("POST", fmt.Sprintf("/api/v2/accounts/%d/jobs/%d/run/", srv.AccountID, emulator.DemoDailyJobID), `{"cause": "example"}`)
	fmt.Println(run["status_humanized"], run["created_at"])

	srv.Advance(2 * time.Minute)
	run = call("GET", fmt.Sprintf("/api/v2/accounts/%d/runs/%d/", srv.AccountID, int64(run["id"].(float64))), "")
	fmt.Println(run["status_humanized"], run["finished_at"], run["duration"], run["duration_humanized"])
	// Output:
	// Queued 2026-03-12 06:00:00.000000+00:00
	// Success 2026-03-12 06:01:13.000000+00:00 00:01:13 1 minute, 13 seconds
}
