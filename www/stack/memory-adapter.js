// oidc-provider storage for the local stack: in memory, on purpose (a
// throw-away authorization server for the demo and tests). Given explicitly
// (`adapter: createMemoryAdapter()`), so oidc-provider does not warn on every
// start that its quick-start adapter is in use. One store per provider.
// The interface oidc-provider calls: upsert, find, findByUid,
// findByUserCode, consume, destroy, revokeByGrantId.
export function createMemoryAdapter() {
  const store = new Map(); // `${model}:${id}` → { id, payload, expiresAt }
  const grants = new Map(); // grantId → Set of store keys
  return (model) => new MemoryAdapter(model, store, grants);
}

class MemoryAdapter {
  constructor(model, store, grants) {
    Object.assign(this, { model, store, grants });
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.set(key, { id, payload: structuredClone(payload), expiresAt });
    if (payload.grantId) {
      if (!this.grants.has(payload.grantId)) this.grants.set(payload.grantId, new Set());
      this.grants.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    const key = this.key(id);
    const entry = this.store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    return structuredClone(entry.payload);
  }

  findBy(field, value) {
    for (const [key, entry] of this.store) {
      if (key.startsWith(`${this.model}:`) && entry.payload[field] === value) return this.find(entry.id);
    }
    return undefined;
  }

  async findByUid(uid) {
    return this.findBy('uid', uid);
  }

  async findByUserCode(userCode) {
    return this.findBy('userCode', userCode);
  }

  async consume(id) {
    const entry = this.store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of this.grants.get(grantId) ?? []) this.store.delete(key);
    this.grants.delete(grantId);
  }
}
