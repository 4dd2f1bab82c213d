package events

// IDHash is the 32-bit FNV-1a hash of an id (a user's, a transaction's):
// a comparison of hashes first spares reading the id's bytes, which lie
// elsewhere in memory, in all but the rare case the hashes agree.
func IDHash(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h
}
