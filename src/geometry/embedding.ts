// What every low-dimensional embedding (PCA, MDS, UMAP) hands to a scatter plot: coordinates, one
// row per item, plus the item labels when the input had them.

/** Points in k dimensions, one per input row (what MDS, UMAP and PCA give `fl.plot.embedding`). */
export interface Embedding {
  /** Coordinates, n × k, row-major. */
  coords: Float64Array;
  /** Items. */
  n: number;
  /** Dimensions of the embedding. */
  k: number;
  /** How it was made, for axis titles ("classical MDS", "UMAP", …). */
  method: string;
  /** Item labels, when the input carried them (an RDM's conditions). */
  labels?: string[];
}

