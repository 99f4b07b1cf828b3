package tracker

import (
	"context"
	"fmt"

	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
)

// recordOf is the record id each kind of database secret is sealed for
// (the associated data that binds a ciphertext to its row). A new kind of
// sealed secret in store's secretTables needs its entry here.
var recordOf = map[store.SecretKind]func(name string) string{
	store.SecretConnection: connectionRecord,
	store.SecretWebhook:    webhookRecord,
	store.SecretWarehouse:  connection.WarehouseRecordID,
}

// ResealResult counts what ResealSecrets re-sealed, by kind.
type ResealResult struct {
	Resealed map[store.SecretKind]int
}

// Total is the number of secrets re-sealed.
func (r ResealResult) Total() int {
	n := 0
	for _, v := range r.Resealed {
		n += v
	}
	return n
}

// ResealSecrets seals every secret of the server database st with key to,
// in one transaction: connection tokens and webhook secrets not yet sealed
// with to are opened with the key that sealed them (found by keys, where
// a rotation keeps the old key as a backup file) and stored sealed with to.
// Either all of them are re-sealed or, on any error, none: a secret whose
// key cannot be found aborts it with nothing changed. Secrets already
// sealed with to are left alone, so running it again after an interruption
// finishes the work.
func ResealSecrets(ctx context.Context, st *store.Store, keys *connection.Store, to connection.Key) (ResealResult, error) {
	res := ResealResult{Resealed: map[store.SecretKind]int{}}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		todo, err := tx.SecretsNotSealedWith(ctx, to.ID())
		if err != nil {
			return err
		}
		for _, s := range todo {
			record, ok := recordOf[s.Kind]
			if !ok {
				return fmt.Errorf("re-seal the %s secret of %q: no record id is known for this kind; nothing was changed", s.Kind, s.Name)
			}
			blob, err := keys.ResealSecret(fmt.Sprintf("%s %q", s.Kind, s.Name), record(s.Name), s.Sealed, to)
			if err != nil {
				return fmt.Errorf("re-seal the database's secrets: nothing was changed: %w", err)
			}
			s.Sealed, s.KeyID = blob, to.ID()
			if err := tx.UpdateSecret(ctx, s); err != nil {
				return err
			}
			res.Resealed[s.Kind]++
		}
		return nil
	})
	if err != nil {
		return ResealResult{}, err
	}
	return res, nil
}
