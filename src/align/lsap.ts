/**
 * Linear sum assignment (maximization): the permutation σ maximizing Σ_i S[i, σ(i)] for an n × m
 * score matrix (n ≤ m: every row gets a distinct column).
 *
 * Shortest augmenting paths with dual potentials (Kuhn–Munkres in the Jonker–Volgenant form,
 * Jonker & Volgenant 1987, "A shortest augmenting path algorithm for dense and sparse linear
 * assignment problems"): rows are added one at a time; a Dijkstra-like search over reduced costs
 * c[i, j] − u[i] − v[j] ≥ 0 finds the cheapest augmenting path, and the potentials are updated so
 * reduced costs stay non-negative. O(n²·m) time, O(n + m) extra memory. We minimize cost = −S.
 */

/**
 * Solves max Σ_i scores[i·cols + σ(i)] over injective σ; `scores` is row-major n × cols, n ≤ cols.
 * Returns σ as an Int32Array of length n.
 *
 * @example
 * linearSumAssignment(Float64Array.from([1, 9, 8, 2]), 2) // → [1, 0] (9 + 8)
 */
export function linearSumAssignment(scores: Float64Array | Float32Array | readonly number[], rows: number, cols = rows): Int32Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < rows) {
    throw new Error(`linearSumAssignment: need integer rows ≤ cols, found rows ${rows}, cols ${cols}`);
  }
  if (scores.length !== rows * cols) {
    throw new Error(`linearSumAssignment: score matrix has ${scores.length} entries, expected ${rows}×${cols} = ${rows * cols}`);
  }
  for (let k = 0; k < scores.length; k++) {
    if (!Number.isFinite(scores[k])) throw new Error(`linearSumAssignment: score [${Math.floor(k / cols)}, ${k % cols}] is ${scores[k]}, expected a finite number`);
  }
  const n = rows;
  const m = cols;
  // 1-based arrays; index 0 of `p` is the virtual row being inserted.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row assigned to column j (0 = none)
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0] as number;
      const rowOffset = (i0 - 1) * m - 1;
      const ui0 = u[i0] as number;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j] === 1) continue;
        const cur = -(scores[rowOffset + j] as number) - ui0 - (v[j] as number);
        if (cur < (minv[j] as number)) {
          minv[j] = cur;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j] === 1) {
          u[p[j] as number] = (u[p[j] as number] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else {
          minv[j] = (minv[j] as number) - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0] as number;
      p[j0] = p[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Int32Array(n);
  for (let j = 1; j <= m; j++) {
    const row = p[j] as number;
    if (row !== 0) assignment[row - 1] = j - 1;
  }
  return assignment;
}

/** Σ_i scores[i, σ(i)] for a row-major matrix with `cols` columns. */
export function assignmentScore(scores: ArrayLike<number>, cols: number, assignment: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < assignment.length; i++) total += scores[i * cols + (assignment[i] as number)] as number;
  return total;
}
