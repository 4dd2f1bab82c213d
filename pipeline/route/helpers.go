package route

import (
	"everywhere/events"
	"everywhere/models/fraud"
	"everywhere/models/match"
	"everywhere/pipeline/ack"
)

// Helpers routes one user partition's helpers to the regions. It keeps
// what matching needs to know of each user (position, availability,
// skills, credit, latest high alert) and sends the whole state to
// every partition whose regions the user can reach whenever any of it
// changes while the user is available, and a last "unavailable" state to
// the partitions the user leaves. A user who is not available costs the
// regions nothing.
type Helpers struct {
	out   *Emitter
	reg   *Regions
	state match.HelperState
	// Users are kept for good. Their records are a slice, and a user's
	// place in it is kept with the user by the partition's fraud
	// detector (fraud.Detector.SetOther), which numbers every user of
	// the partition first: a ping's user is looked up once for both.
	// Neither holds a pointer per user for the collector to scan.
	num   *fraud.Detector
	users []user // users[0] is no one
	touch int64  // what Preload's loads read, kept so they are not dropped
}

type user struct {
	mask    uint64 // partitions that hold the user as available
	pingMS  int64
	lat     float64
	lng     float64
	avail   bool
	skills  events.SkillSet
	credit  uint16
	alertMS int64
}

// NewHelpers returns the router of one user partition, whose users
// detector d numbers.
func NewHelpers(out *Emitter, reg *Regions, d *fraud.Detector) *Helpers {
	return &Helpers{out: out, reg: reg, num: d, users: make([]user, 1)}
}

// get returns the record of the user numbered n by the detector, made if
// it has none: valid until the next user is made.
func (h *Helpers) get(n int32) *user {
	i := h.num.Other(n)
	if i == 0 {
		i = int32(len(h.users))
		h.users = append(h.users, user{})
		h.num.SetOther(n, i)
	}
	return &h.users[i]
}

// Preload reads the records of the users numbered nums (-1 for none), as
// the detector's preload found them: see consumers.Preloader.
func (h *Helpers) Preload(nums []int32) {
	var touch int64
	for _, n := range nums {
		if n >= 0 {
			touch += h.users[h.num.Other(n)].pingMS
		}
	}
	h.touch += touch
}

// Ping moves a user, numbered n by the detector (fraud.Detector.Ping's
// answer for ev); cell is the ping's cell at any resolution from
// ReachResolution up (see Regions.Reach). An older ping than the latest
// known changes nothing but the watermark.
func (h *Helpers) Ping(ev *events.Ping, n int32, cell uint64, t *ack.Ticket) {
	h.out.Observe(ev.TS, t)
	if !ev.Available && h.num.Other(n) == 0 {
		return // unknown and unavailable: nothing to tell anyone
	}
	u := h.get(n)
	if ev.TS < u.pingMS {
		return
	}
	u.pingMS, u.lat, u.lng, u.avail = ev.TS, ev.Lat, ev.Lng, ev.Available
	old := u.mask
	u.mask = 0
	if u.avail {
		u.mask = h.reg.Reach(cell)
	}
	h.send(ev.UserID, u, old|u.mask, ev.TS)
}

// Profile records skills and credit.
func (h *Helpers) Profile(ev *events.Profile, t *ack.Ticket) {
	h.out.Observe(ev.TS, t)
	if !ev.HasSkills && ev.CreditScore == 0 {
		return
	}
	u := h.get(h.num.Number(ev.UserID))
	if ev.HasSkills {
		u.skills = ev.Skills
	}
	if ev.CreditScore > 0 {
		u.credit = uint16(ev.CreditScore)
	}
	h.send(ev.UserID, u, u.mask, ev.TS)
}

// Alert keeps a user with a high alert out of every list for the alert
// window (the matcher applies the window in event time). A money ring's
// alert is left to the regions, which find rings themselves (see
// Transfers): here it would come when the ring's last path is read, a
// moment that depends on timing.
func (h *Helpers) Alert(a *fraud.Alert, t *ack.Ticket) {
	if a.Severity != fraud.High || a.Rule == fraud.RuleRoundTrip {
		return
	}
	h.out.Observe(a.TS, t)
	u := h.get(h.num.Number(a.UserID))
	if a.TS <= u.alertMS {
		return
	}
	u.alertMS = a.TS
	h.send(a.UserID, u, u.mask, a.TS)
}

// send writes the user's state to each partition of mask: available in
// those the user reaches now, unavailable in those it has left.
func (h *Helpers) send(id string, u *user, mask uint64, ts int64) {
	if mask == 0 {
		return
	}
	s := &h.state
	*s = match.HelperState{ID: id, PingMS: u.pingMS, Lat: u.lat, Lng: u.lng, Skills: u.skills,
		Credit: int(u.credit), AlertMS: u.alertMS}
	wm := h.out.WM()
	for p := 0; mask != 0; p, mask = p+1, mask>>1 {
		if mask&1 == 0 {
			continue
		}
		s.Available = u.avail && u.mask&(1<<p) != 0
		h.out.begin(p, id)
		h.out.pack.Buf = AppendHelper(h.out.pack.Buf, h.out.src, wm, ts, s)
		h.out.end()
	}
}
