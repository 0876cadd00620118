/**
 * `mode-connectivity/simulate`: the decentralized learning simulator of the vanishing-variance
 * study (Tian et al. 2024) — topologies, data partitions, averaging rules, the simulation run and
 * its metrics and outputs.
 *
 * @module mode-connectivity/simulate
 */
export {
  createTopology,
  ringTopology,
  starTopology,
  randomRegularTopology,
  erdosRenyiTopology,
  barabasiAlbertTopology,
  readEdgeList,
  parseEdgeList,
  isConnected,
  degrees,
  TOPOLOGY_SPECS,
  type Topology,
  type ErdosRenyiOptions,
} from '../simulate/topology.js';
export { createPartition, partitionIndices, parsePartitionSpec, sampleDirichlet, sampleGamma, PARTITION_SPECS, type PartitionSpec, type PartitionOptions } from '../simulate/partition.js';
export { createAveragingRule, federatedMean, AVERAGING_RULE_NAMES, type AveragingRule, type AveragingRuleName, type AveragingContext, type AveragingRuleOptions } from '../simulate/averaging-rules.js';
export {
  createSimulation,
  loadSimulation,
  runSimulation,
  resolveSimulationConfig,
  DEFAULT_SIMULATION_CONFIG,
  SIMULATION_MODES,
  type SimulationConfig,
  type SimulationMode,
  type Simulation,
  type SimulationData,
  type SimulationOptions,
  type RunSimulationOptions,
} from '../simulate/simulator.js';
export { plateauDelay, ticksToAccuracy, accuracyBandRows, type TickRow, type NodeRow, type SimulationRows, type PlateauDelay } from '../simulate/metrics.js';
export { writeSimulationOutputs, delayChart, type SimulationRun, type DelayRow } from '../simulate/outputs.js';
