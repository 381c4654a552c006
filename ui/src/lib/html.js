// htm bound to Preact: templates are tagged strings in plain JavaScript.
import {h} from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
