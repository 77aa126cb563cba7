// AHP consistency in the browser: the same numbers as riskmodel.index.ahp (priorities by the
// principal eigenvector or row geometric means, lambda_max = mean((A w)_i / w_i), CI, CR with
// Saaty's random index, the judgement to revisit). Hand-written because it must run while the
// expert types, with no request and no library; the server recomputes with numpy on save and
// the page shows both (tests check they agree to 1e-6).
"use strict";
(function (root) {
  const RANDOM_INDEX = {1: 0, 2: 0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
    10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59};
  const SAATY = [1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9];

  function matrixFromUpper(n, upper) {
    // upper: values for (i, j), i < j, row by row
    const A = [];
    for (let i = 0; i < n; i++) { A.push(new Array(n).fill(1)); }
    let k = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) { A[i][j] = upper[k]; A[j][i] = 1 / upper[k]; k++; }
    }
    return A;
  }

  function normalise(v) { const s = v.reduce((a, b) => a + b, 0); return v.map((x) => x / s); }

  function priorities(A, method) {
    const n = A.length;
    if (method === "geometric") {
      return normalise(A.map((row) => Math.exp(row.reduce((s, x) => s + Math.log(x), 0) / n)));
    }
    // principal eigenvector by power iteration (Perron: A > 0, so it converges to it)
    let w = new Array(n).fill(1 / n);
    for (let it = 0; it < 10000; it++) {
      const next = normalise(A.map((row) => row.reduce((s, x, j) => s + x * w[j], 0)));
      const diff = next.reduce((s, x, j) => Math.max(s, Math.abs(x - w[j])), 0);
      w = next;
      if (diff < 1e-15) { break; }
    }
    return w;
  }

  function consistency(A, method) {
    const n = A.length;
    const w = priorities(A, method);
    const lam = A.reduce((s, row, i) => s + row.reduce((t, x, j) => t + x * w[j], 0) / w[i], 0) / n;
    const ci = n > 1 ? (lam - n) / (n - 1) : 0;
    const ri = RANDOM_INDEX[n] || 0;
    const cr = ri > 0 ? ci / ri : 0;
    let best = null;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const e = Math.abs(Math.log(A[i][j] * w[j] / w[i]));
        if (best === null || e > best.e) { best = {i: i, j: j, e: e, implied: w[i] / w[j]}; }
      }
    }
    if (best) {
      best.saaty = SAATY.reduce((a, b) => Math.abs(Math.log(b) - Math.log(best.implied))
        < Math.abs(Math.log(a) - Math.log(best.implied)) ? b : a);
    }
    return {weights: w, lambdaMax: lam, ci: ci, cr: cr, revisit: best};
  }

  root.RiskmodelAHP = {matrixFromUpper: matrixFromUpper, priorities: priorities, consistency: consistency,
    SAATY: SAATY, CR_LIMIT: 0.1};
})(window);
