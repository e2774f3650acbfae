package engine

import "github.com/tollgate-dev/tollgate/engine/internal/cowmap"

// userSlot is what the users map holds for a user: the state, and a copy of the
// subject's symbols when there are at most userSlotSyms of them, so that judging
// compact rules reads the map's slot only, not the state (see docs/performance.md,
// Deciding). With its key, a slot is 64 bytes: one cache line.
type userSlot struct {
	st    *userState
	nsyms int32 // how many of syms are the subject's symbols; -1: more than fit (st has them)
	syms  [userSlotSyms]uint32
}

// userSlotSyms is how many subject symbols a userSlot holds.
const userSlotSyms = 10

func slotOf(u *userState) userSlot {
	s := userSlot{st: u, nsyms: -1}
	if syms := u.symbols(); len(syms) <= userSlotSyms {
		s.nsyms = int32(copy(s.syms[:], syms))
	}
	return s
}

// symbols returns the subject's symbols, ascending (as userState.symbols).
func (s *userSlot) symbols() []uint32 {
	if s.nsyms >= 0 {
		return s.syms[:s.nsyms:s.nsyms]
	}
	return s.st.symbols()
}

// userMap is a snapshot's users by id: a copy-on-write map of userSlots.
type userMap struct{ m cowmap.Map[userSlot] }

// Get returns the state of user id.
func (u userMap) Get(id int64) (*userState, bool) {
	s, ok := u.m.Get(id)
	return s.st, ok
}

// Each calls f for every user, in no particular order, until f returns false.
func (u userMap) Each(f func(id int64, st *userState) bool) {
	u.m.Each(func(id int64, s userSlot) bool { return f(id, s.st) })
}

// Keys returns the user ids, in no particular order.
func (u userMap) Keys() []int64 { return u.m.Keys() }

// Edit starts an edit of the users.
func (u userMap) Edit() *userEdit { return &userEdit{e: u.m.Edit()} }

// userEdit is a txn's edit of the users.
type userEdit struct{ e *cowmap.Edit[userSlot] }

// Get returns the state of user id as edited.
func (u *userEdit) Get(id int64) (*userState, bool) {
	s, ok := u.e.Get(id)
	return s.st, ok
}

// Set stores the state of user id.
func (u *userEdit) Set(id int64, st *userState) { u.e.Set(id, slotOf(st)) }

// Del removes user id.
func (u *userEdit) Del(id int64) { u.e.Del(id) }

// TouchedKeys returns the ids the edit set or deleted.
func (u *userEdit) TouchedKeys() []int64 { return u.e.TouchedKeys() }

// Done ends the edit.
func (u *userEdit) Done() userMap { return userMap{m: u.e.Done()} }
