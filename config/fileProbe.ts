/** The one file-system question the validator asks (is flockerDebDir a directory, and of what). */
export interface FileProbe {
  /** File names in `path`; undefined when it is not a readable directory. */
  listDir(path: string): readonly string[] | undefined;
}
