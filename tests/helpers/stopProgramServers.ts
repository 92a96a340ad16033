/** jest's globalTeardown (jest.config.js). */
import { stopProgramServers } from "./programServers";

export default stopProgramServers;
