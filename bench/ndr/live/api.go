package live

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rxprobe/rxprobe/stats/trialapi"
)

// API is a client of the trial API (`rxprobe run --trial-api ADDR`).
type API struct {
	// Base is "http://HOST:PORT".
	Base   string
	client http.Client
}

// NewAPI returns a client of the trial API at addr (HOST:PORT).
func NewAPI(addr string) *API {
	return &API{Base: "http://" + addr, client: http.Client{Timeout: 10 * time.Second}}
}

func (a *API) do(ctx context.Context, method, path string, want int, v any) error {
	return a.doBody(ctx, method, path, nil, want, v)
}

// doBody is do with a request body.
func (a *API) doBody(ctx context.Context, method, path string, body []byte, want int, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("trial api: %w", err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("trial api: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("trial api: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("trial api: %s %s: status %d: %s: %w", method, path, resp.StatusCode, bytes.TrimSpace(b), ErrAPI)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("trial api: %s %s: %w", method, path, err)
	}
	return nil
}

// Healthy reports whether the API answers with a snapshot.
func (a *API) Healthy(ctx context.Context) bool {
	return a.do(ctx, http.MethodGet, "/v1/health", http.StatusOK, nil) == nil
}

// Start starts a trial (an exact sample) and returns its id.
func (a *API) Start(ctx context.Context) (string, error) {
	var t trialapi.Trial
	if err := a.do(ctx, http.MethodPost, "/v1/trials", http.StatusCreated, &t); err != nil {
		return "", err
	}
	return t.ID, nil
}

// Stop stops trial id (another exact sample) and returns its deltas.
func (a *API) Stop(ctx context.Context, id string, genClock json.RawMessage) (*trialapi.Result, error) {
	var body []byte
	if len(genClock) != 0 && string(genClock) != "null" {
		body, _ = json.Marshal(map[string]json.RawMessage{"generator_clock": genClock})
	}
	var t trialapi.Trial
	if err := a.doBody(ctx, http.MethodPost, "/v1/trials/"+id+"/stop", body, http.StatusOK, &t); err != nil {
		return nil, err
	}
	if t.Result == nil {
		return nil, fmt.Errorf("trial api: trial %s stopped without a result: %w", id, ErrAPI)
	}
	return t.Result, nil
}
