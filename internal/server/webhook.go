package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/internal/store"
)

// receiveWebhook takes a dbt Cloud webhook delivery. It is authenticated
// by the HMAC signature dbt Cloud puts in the Authorization header, not by
// a bearer token, and the signature is checked before the body is parsed:
// nothing an unauthenticated sender writes reaches the JSON decoder or the
// store. Any non-2xx answer makes dbt Cloud deliver again later, which is
// what we want for 5xx and harmless for the rest.
func (s *Server) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	conn := r.PathValue("connection")
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.countDelivery(deliveryBadPayload)
		}
		s.fail(w, r, err)
		return
	}
	secret, err := s.backend.WebhookSecret(r.Context(), conn)
	if errors.Is(err, store.ErrNotFound) {
		s.countDelivery(deliveryUnknownConnection)
		s.writeError(w, r, http.StatusNotFound, codeNotFound, fmt.Sprintf(
			"connection %q has no webhook subscription on this server; run `dbtlink webhook subscribe %s --url <this server's public URL>/webhooks/dbt-cloud/%s`, which registers the URL with dbt Cloud and keeps the signing secret",
			conn, conn, conn))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := dbtcloud.VerifyWebhookSignature(secret, raw, r.Header.Get("Authorization")); err != nil {
		s.countDelivery(deliveryBadSignature)
		s.writeError(w, r, http.StatusUnauthorized, codeUnauthorized,
			"the delivery's Authorization header is missing or is not the hex HMAC-SHA256 of the body under this connection's webhook secret")
		return
	}
	ev, err := dbtcloud.ParseWebhookEvent(raw)
	if err != nil {
		s.countDelivery(deliveryBadPayload)
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	outcome, err := s.backend.ApplyWebhook(r.Context(), conn, ev, raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.countDelivery(string(outcome))
	s.writeJSON(w, r, http.StatusOK, struct {
		Outcome WebhookOutcome `json:"outcome"`
	}{outcome})
}

func (s *Server) countDelivery(outcome string) {
	s.metrics.WebhookDeliveries.WithLabelValues(outcome).Inc()
}
