import type { TrainConfig } from '@mup2/model-zoo';

/**
 * What one cell trains: a TrainConfig of @mup2/model-zoo without where the files are
 * (dataDir), where rules come from (ruleModules), checkpoints or augmentation (the trainer's
 * per-dataset default), which are not what a cell is identified by. rho is 0 for rule 'sgd'.
 */
export type CellConfig = Omit<TrainConfig, 'dataDir' | 'ruleModules' | 'checkpoint' | 'augment'>;
