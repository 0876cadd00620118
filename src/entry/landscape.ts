/**
 * `mode-connectivity/landscape`: loss landscapes — the plane through three models or through a
 * curve's bend (Garipov et al. 2018), filter-normalized random directions in 1-D and 2-D (Li et
 * al. 2018), linear interpolation beyond the endpoints, model comparisons (layer distances,
 * cosine similarity, prediction agreement, disagreement matrix), and their row types.
 *
 * @module mode-connectivity/landscape
 */
export type { DirectionRow } from '../landscape/rows.js';
export { planeBasis, planePoint, projectOntoPlane, disposePlaneBasis, innerProduct, type PlaneBasis, type PlaneInput, type PlaneCoordinates, type PlaneProjection } from '../landscape/plane.js';
export { evaluatePlane, evaluateCurvePlane, curvePlaneBasis, projectCurve, type EvaluatePlaneOptions, type CurvePlaneOptions, type PlaneSurface } from '../landscape/evaluate-plane.js';
export { filterNormalizedDirection, type BiasBnHandling, type FilterNormalizedOptions } from '../landscape/filter-normalized-direction.js';
export { evaluateRandomDirections, axisGrid, type RandomDirectionsOptions } from '../landscape/random-directions.js';
export { interpolationGrid, rowsWithinEndpoints, type InterpolationGridOptions } from '../landscape/interpolation-grid.js';
export { compareModels, type CompareModelsOptions, type ModelComparison } from '../landscape/compare-models.js';
export type { LayerComparisonRow, AgreementRow, DisagreementRow } from '../landscape/rows.js';
