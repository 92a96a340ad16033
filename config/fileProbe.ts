/** The file-system questions the validator asks: flockerDebDir's listing, flockerAptKey's bytes. */
export interface FileProbe {
  /** File names in `path`; undefined when it is not a readable directory. */
  listDir(path: string): readonly string[] | undefined;
  /** The content of the file at `path`; undefined when it is not a readable file. */
  readFile?(path: string): Uint8Array | undefined;
}
