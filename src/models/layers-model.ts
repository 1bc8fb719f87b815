// Any tfjs LayersModel (Sequential or functional) with its layer names as hook points: the model's
// graph is executed layer by layer, so a hook can read or replace every layer's output, and
// `run`, `fl.ablate` and the edit hooks work on it as on the transformer. A final softmax layer's
// probabilities come out as log-probabilities, which are logits for every metric here.
import { tf, ready } from "../engine/backend.js";
import { HookedModel, type ModelBatch } from "./hooked-model.js";
import type { HookRunner } from "./hook-points.js";
import { optionNames, rejectUnknownOptions } from "../io/options.js";

type Node = { inputTensors: { id: number }[]; outputTensors: { id: number }[] };
type LayerLike = tf.layers.Layer & { inboundNodes: Node[] };

/** Lengths meaning "every position is valid" (consumers clamp to each activation's width). */
const ALL = 2 ** 30;

/**
 * A tfjs LayersModel with its layer names as hook points (made by `fl.hooked`).
 * @example
 * const hm = await fl.hooked(tfModel);
 * const { cache } = await hm.run(x, { cache: ["dense_1"] });
 */
export class HookedLayersModel extends HookedModel {
  readonly model: tf.LayersModel;
  readonly name: string;
  readonly hookNames: readonly string[];
  readonly tokenizer = undefined;
  private readonly plan: { layer: LayerLike; inputs: number[]; output: number }[];
  private readonly softmaxOut: boolean;

  constructor(model: tf.LayersModel, opts: { name?: string } = {}) {
    super();
    rejectUnknownOptions("HookedLayersModel", opts, optionNames<typeof opts>({ name: true }));
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw new Error(`featurelab: hooked LayersModels have one input and one output; '${model.name}' has ${model.inputs.length} and ${model.outputs.length}`);
    }
    this.model = model;
    this.name = opts.name ?? model.name;
    // Execution order: each layer runs once all of its inputs are known (layers are listed in graph order).
    const known = new Set<number>(model.inputs.map((t) => t.id));
    this.plan = [];
    for (const layer of model.layers as LayerLike[]) {
      if (layer.getClassName() === "InputLayer") continue;
      const node = layer.inboundNodes.find((n) => n.inputTensors.every((t) => known.has(t.id)));
      if (!node) throw new Error(`featurelab: cannot place layer '${layer.name}' of '${model.name}' in its graph (shared or nested layers are not supported)`);
      if (node.outputTensors.length !== 1) throw new Error(`featurelab: layer '${layer.name}' has ${node.outputTensors.length} outputs; hooked layers have one`);
      this.plan.push({ layer, inputs: node.inputTensors.map((t) => t.id), output: node.outputTensors[0].id });
      known.add(node.outputTensors[0].id);
    }
    if (!known.has(model.outputs[0].id)) throw new Error(`featurelab: the output of '${model.name}' is not reached by its layers`);
    this.hookNames = Object.freeze(this.plan.map((p) => p.layer.name));
    const last = this.plan[this.plan.length - 1].layer;
    const cfg = last.getConfig() as { activation?: string };
    this.softmaxOut = cfg.activation === "softmax" || last.getClassName() === "Softmax";
  }

  batches(input: unknown, opts: { batchSize: number; labels?: ArrayLike<number> }): { batches: ModelBatch[] } {
    const x = input instanceof tf.Tensor ? input : tf.tensor(input as number[][]);
    const expected = this.model.inputs[0].shape;
    if (x.rank !== expected.length || expected.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      if (!(input instanceof tf.Tensor)) x.dispose();
      throw new Error(`featurelab: '${this.name}' takes input [${expected.map((d) => d ?? "batch")}]; got [${x.shape}]`);
    }
    const host = x.dataSync().slice() as Float32Array;
    const shape = x.shape.slice();
    if (!(input instanceof tf.Tensor)) x.dispose();
    const N = shape[0], rowSize = host.length / N;
    if (opts.labels && opts.labels.length !== N) throw new Error(`featurelab: ${opts.labels.length} labels for ${N} samples`);
    const batches: ModelBatch[] = [];
    for (let start = 0; start < N; start += opts.batchSize) {
      const size = Math.min(opts.batchSize, N - start);
      const targets = opts.labels ? Int32Array.from({ length: size }, (_, i) => opts.labels![start + i]) : new Int32Array(size).fill(-1);
      const data = host.subarray(start * rowSize, (start + size) * rowSize);
      batches.push({ start, size, width: 1, lengths: new Array(size).fill(ALL), targets, input: () => tf.tensor(data, [size, ...shape.slice(1)]) });
    }
    return { batches };
  }

  /** @internal See HookedModel.forwardBatch: the layers model's graph walked with hooks. */
  forwardBatch(batch: ModelBatch, runner: HookRunner): tf.Tensor {
    const values = new Map<number, tf.Tensor>([[this.model.inputs[0].id, batch.input()]]);
    for (const step of this.plan) {
      const ins = step.inputs.map((id) => values.get(id)!);
      const out = step.layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as tf.Tensor;
      values.set(step.output, runner.at(step.layer.name, out));
    }
    const y = values.get(this.model.outputs[0].id)!;
    return this.softmaxOut ? tf.log(tf.maximum(y, 1e-30)) : y;
  }

  toString(): string {
    return `HookedLayersModel(${this.name}: ${this.hookNames.join(", ")})`;
  }
}

/**
 * A tfjs LayersModel with its layer names as hook points.
 * @example
 * const hm = await fl.hooked(tfModel);
 * const { cache } = await hm.run(x, { cache: ["dense_1"] });
 */
export async function hooked(model: tf.LayersModel, opts: { name?: string } = {}): Promise<HookedLayersModel> {
  rejectUnknownOptions("hooked", opts, optionNames<typeof opts>({ name: true }));
  await ready();
  return new HookedLayersModel(model, opts);
}
