/** flowtrace's library surface: each layer is also importable as `flowtrace/<layer>`. */
export * from './errors.js';
